/**
 * Resident copies of immutable weights in kernel memory, so a matrix-vector product streams its
 * weight from WASM memory instead of copying it in on every call — optionally re-laid out on the
 * way in (row tiles for the mat-vecs). Keyed by the weight's buffer (weakly), byte range and
 * layout, so a fresh view over the same bytes hits the same copy; freed when the buffer is
 * garbage-collected, or evicted least-recently-used when over budget.
 * Contract: a weight array's contents must not change once used with quantMatmul.
 */
import { KernelMemoryError } from './arena.ts';
import type { Runtime } from './runtime.ts';

interface Entry {
  ptr: number;
  bytes: number;
  stamp: number;
  key: string;
  owner: WeakRef<ArrayBufferLike>;
  live: boolean;
}

export class Residency {
  private readonly byBuffer = new WeakMap<ArrayBufferLike, Map<string, Entry>>();
  /** Insertion order = least recently used first. */
  private readonly lru = new Set<Entry>();
  private readonly registry = new FinalizationRegistry<Entry>((e) => this.drop(e));
  private stamp = 0;
  /** Bytes held by resident copies. */
  bytes = 0;

  constructor(
    private readonly rt: Runtime,
    private readonly budget: number,
  ) {}

  /** Starts a call: entries touched from now on are not evicted until the next call. */
  begin(): void {
    this.stamp++;
  }

  /**
   * Address of a resident copy of `a` (made on first use), or null when it cannot be held.
   * `layout` (with its name, part of the key) turns the raw bytes at `src` into `bytes` bytes at
   * `dst`; without it the copy is byte for byte, and arrays already in kernel memory are used
   * in place.
   */
  get(a: ArrayBufferView, layout?: { name: string; bytes: number; apply(src: number, dst: number): void }): number | null {
    if (!layout && this.rt.owns(a)) return a.byteOffset;
    const key = `${a.byteOffset}:${a.byteLength}:${layout?.name ?? 'raw'}`;
    let map = this.byBuffer.get(a.buffer);
    const hit = map?.get(key);
    if (hit?.live) {
      hit.stamp = this.stamp;
      this.lru.delete(hit);
      this.lru.add(hit);
      return hit.ptr;
    }
    const bytes = layout?.bytes ?? a.byteLength;
    if (bytes > this.budget) return null;
    while (this.bytes + bytes > this.budget && this.evictOne()) {
      // evicting
    }
    if (this.bytes + bytes > this.budget) return null;
    const ptr = this.allocEvicting(bytes);
    if (ptr === null) return null;
    try {
      if (layout) {
        const tmp = this.allocEvicting(a.byteLength);
        if (tmp === null) {
          this.rt.arena.release(ptr);
          return null;
        }
        this.rt.u8.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), tmp);
        layout.apply(tmp, ptr);
        this.rt.arena.release(tmp);
      } else {
        this.rt.u8.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), ptr);
      }
    } catch (err) {
      this.rt.arena.release(ptr);
      throw err;
    }
    const e: Entry = { ptr, bytes, stamp: this.stamp, key, owner: new WeakRef(a.buffer), live: true };
    if (!map) this.byBuffer.set(a.buffer, (map = new Map()));
    map.set(key, e);
    this.lru.add(e);
    this.bytes += e.bytes;
    this.registry.register(a.buffer, e);
    return ptr;
  }

  /** Allocates, evicting older entries while memory is short; null when that is not enough. */
  private allocEvicting(bytes: number): number | null {
    for (;;) {
      try {
        return this.rt.arena.alloc(bytes);
      } catch (e) {
        if (!(e instanceof KernelMemoryError) || !this.evictOne()) return null;
      }
    }
  }

  /** Evicts the least recently used entry not touched by the current call; false if none. */
  private evictOne(): boolean {
    for (const e of this.lru) {
      if (e.stamp === this.stamp) continue;
      this.drop(e);
      return true;
    }
    return false;
  }

  private drop(e: Entry): void {
    if (!e.live) return;
    e.live = false;
    this.lru.delete(e);
    this.bytes -= e.bytes;
    this.rt.arena.release(e.ptr);
    const owner = e.owner.deref();
    if (owner) this.byBuffer.get(owner)?.delete(e.key);
  }
}
