/**
 * Prefix caching: when a new prompt starts with tokens an earlier sequence already ran through the
 * model (a shared system prompt, the earlier turns of a conversation), their per-layer caches are
 * copied instead of recomputed.
 *
 * Finished sequences hand their caches over (no copy). Each entry is indexed by a chained hash of
 * every block-aligned prefix of its tokens (block `k`'s key hashes block `k−1`'s key and the block's
 * ids), so a lookup walks the new prompt block by block and takes the longest match — a trie over
 * blocks, kept in a Map. Hits are verified token by token (hash collisions cannot leak another
 * prompt's cache) and copied out to the matched length. Entries are evicted least-recently-used once
 * the cached token total passes a budget.
 */
import type { SequenceCache } from '../../model/causal-lm.ts';
import type { LayerCache } from '../../model/cache.ts';

export interface PrefixCacheOptions {
  /** Tokens per block: matches are block-aligned (default 16). */
  blockSize?: number;
  /** Most tokens kept over all entries (default 65,536); 0 disables the cache. */
  maxTokens?: number;
}

interface Entry {
  ids: number[];
  cache: SequenceCache;
  keys: string[];
}

export interface PrefixHit {
  /** Tokens covered by the returned caches. */
  length: number;
  cache: SequenceCache;
}

/** Keys of the block-aligned prefixes of `ids` (FNV-1a over the previous key and the block). */
function blockKeys(ids: readonly number[], blockSize: number, blocks: number): string[] {
  const keys: string[] = [];
  let h1 = 0x811c9dc5;
  let h2 = 0x01000193;
  for (let k = 0; k < blocks; k++) {
    for (let i = k * blockSize; i < (k + 1) * blockSize; i++) {
      const v = ids[i]!;
      h1 = Math.imul(h1 ^ v, 0x01000193) >>> 0;
      h2 = Math.imul(h2 ^ (v + 0x9e3779b9), 0x85ebca6b) >>> 0;
    }
    keys.push(`${k}:${h1.toString(36)}:${h2.toString(36)}`);
  }
  return keys;
}

export class PrefixCache {
  readonly blockSize: number;
  readonly maxTokens: number;
  /** Insertion order is recency order (a hit re-inserts). */
  private readonly entries = new Set<Entry>();
  private readonly index = new Map<string, Entry>();
  private total = 0;

  constructor(options: PrefixCacheOptions = {}) {
    this.blockSize = options.blockSize ?? 16;
    this.maxTokens = options.maxTokens ?? 65536;
    if (!(Number.isInteger(this.blockSize) && this.blockSize >= 1))
      throw new RangeError(`block size must be an integer ≥ 1, got ${this.blockSize}`);
  }

  /** Tokens currently held. */
  get size(): number {
    return this.total;
  }

  /**
   * The longest cached block-aligned prefix of `ids`, shorter than `maxLength` (a prompt must keep at
   * least one token to run, for its logits), as fresh caches with room for `capacity` tokens.
   */
  lookup(ids: readonly number[], maxLength: number, capacity: number): PrefixHit | null {
    const blocks = Math.floor(Math.min(ids.length, maxLength) / this.blockSize);
    if (blocks === 0 || this.entries.size === 0) return null;
    const keys = blockKeys(ids, this.blockSize, blocks);
    for (let k = blocks - 1; k >= 0; k--) {
      const e = this.index.get(keys[k]!);
      if (!e) continue;
      const n = (k + 1) * this.blockSize;
      let same = e.ids.length >= n;
      for (let i = 0; same && i < n; i++) same = e.ids[i] === ids[i];
      if (!same) continue;
      this.entries.delete(e);
      this.entries.add(e);
      return { length: n, cache: e.cache.map((c: LayerCache) => c.clone(n, capacity)) };
    }
    return null;
  }

  /** Takes over the caches of `ids` (cache length must equal ids.length); keeps their block-aligned part. */
  insert(ids: readonly number[], cache: SequenceCache): void {
    const blocks = Math.floor(ids.length / this.blockSize);
    const n = blocks * this.blockSize;
    if (blocks === 0 || n > this.maxTokens) return;
    const keys = blockKeys(ids, this.blockSize, blocks);
    const existing = this.index.get(keys[blocks - 1]!);
    if (existing && existing.ids.length >= n) return; // an entry already covers this prefix
    // Keep only the aligned part; copy when the cache was sized for a much longer sequence.
    const kept = cache.map((c) => (c.capacity > 2 * n ? c.clone(n) : (c.truncate(n), c)));
    const entry: Entry = { ids: ids.slice(0, n), cache: kept, keys };
    this.entries.add(entry);
    this.total += n;
    for (const key of keys) {
      const old = this.index.get(key);
      this.index.set(key, entry);
      // An older entry whose every prefix the new one covers is now dead weight.
      if (old && old !== entry && old.keys[old.keys.length - 1] === key) this.remove(old);
    }
    while (this.total > this.maxTokens) this.remove(this.entries.values().next().value as Entry);
  }

  private remove(e: Entry): void {
    if (!this.entries.delete(e)) return;
    this.total -= e.ids.length;
    for (const key of e.keys) if (this.index.get(key) === e) this.index.delete(key);
  }

  clear(): void {
    this.entries.clear();
    this.index.clear();
    this.total = 0;
  }
}
