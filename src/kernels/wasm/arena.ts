/**
 * Allocator over the shared WebAssembly.Memory, run from JS (the WASM side never allocates).
 * First fit over an address-ordered free list with coalescing; grows the memory on demand.
 * Blocks are 64-byte aligned (cache lines; v128 loads never straddle one unnecessarily).
 */
import type { WasmMemory } from './wasm-api.ts';

const ALIGN = 64;
const PAGE = 65536;

/** Kernel memory is exhausted (the 4 GiB wasm32 limit, or the OS refused to grow it). */
export class KernelMemoryError extends RangeError {}

export class Arena {
  private readonly free: { ptr: number; size: number }[] = [];
  private readonly sizes = new Map<number, number>();
  private top: number;
  /** Bytes currently handed out. */
  used = 0;

  constructor(
    private readonly memory: WasmMemory,
    base: number,
    private readonly maxBytes: number,
  ) {
    this.top = base;
  }

  /** Returns the address of a fresh block of `bytes`; throws KernelMemoryError when memory is exhausted. */
  alloc(bytes: number): number {
    const size = Math.max(ALIGN, Math.ceil(bytes / ALIGN) * ALIGN);
    let ptr = -1;
    for (let i = 0; i < this.free.length; i++) {
      const f = this.free[i]!;
      if (f.size >= size) {
        ptr = f.ptr;
        if (f.size === size) this.free.splice(i, 1);
        else {
          f.ptr += size;
          f.size -= size;
        }
        break;
      }
    }
    if (ptr < 0) {
      if (this.top + size > this.maxBytes)
        throw new KernelMemoryError(`kernel arena: cannot allocate ${bytes} bytes (limit ${this.maxBytes})`);
      this.ensure(this.top + size);
      ptr = this.top;
      this.top += size;
    }
    this.sizes.set(ptr, size);
    this.used += size;
    return ptr;
  }

  /** Returns a block to the free list (merging with its neighbours). */
  release(ptr: number): void {
    const size = this.sizes.get(ptr);
    if (size === undefined) throw new Error(`kernel arena: double free or bad pointer ${ptr}`);
    this.sizes.delete(ptr);
    this.used -= size;
    let i = 0;
    while (i < this.free.length && this.free[i]!.ptr < ptr) i++;
    this.free.splice(i, 0, { ptr, size });
    const next = this.free[i + 1];
    if (next && ptr + size === next.ptr) {
      this.free[i]!.size += next.size;
      this.free.splice(i + 1, 1);
    }
    const prev = this.free[i - 1];
    if (prev && prev.ptr + prev.size === ptr) {
      prev.size += this.free[i]!.size;
      this.free.splice(i, 1);
      i--;
    }
    // A free block at the top gives its space back to the bump pointer.
    const last = this.free[this.free.length - 1];
    if (last && last.ptr + last.size === this.top) {
      this.top = last.ptr;
      this.free.pop();
    }
  }

  /** Whether `bytes` more could be allocated without exceeding the limit (ignoring fragmentation). */
  fits(bytes: number): boolean {
    return this.top + bytes <= this.maxBytes || this.free.some((f) => f.size >= bytes);
  }

  private ensure(end: number): void {
    const have = this.memory.buffer.byteLength;
    if (end <= have) return;
    // Grow by at least 1/8 of the current size to keep the number of grows small.
    const want = Math.max(end, Math.min(this.maxBytes, have + (have >> 3)));
    try {
      this.memory.grow(Math.ceil((want - have) / PAGE));
    } catch {
      try {
        this.memory.grow(Math.ceil((end - have) / PAGE));
      } catch (e) {
        throw new KernelMemoryError(`kernel arena: cannot grow memory to ${end} bytes (${(e as Error).message})`);
      }
    }
  }
}
