/**
 * Decoding caches, one per sequence per layer, preallocated to a capacity. `KVCache` holds full
 * per-head keys and values (Llama/Qwen2 GQA). `LatentCache` is MLA's: only the compressed latent
 * c_kv (kv_lora_rank values) and the shared RoPE key (qk_rope_head_dim values) per token.
 */
import { Tensor } from '../tensor/index.ts';

export class KVCache {
  /**
   * Stored heads first, [Hkv, capacity, D]: a step appends one row per head, and attention reads each
   * head's first `length` rows in place (a strided view, no copy), the room to grow left between heads.
   */
  private k: Float32Array;
  private v: Float32Array;
  length = 0;

  constructor(
    readonly kvHeads: number,
    readonly keyDim: number,
    readonly valueDim: number,
    public capacity: number,
  ) {
    this.k = new Float32Array(capacity * kvHeads * keyDim);
    this.v = new Float32Array(capacity * kvHeads * valueDim);
  }

  /** Values kept per token (keys and values of every KV head). */
  get valuesPerToken(): number {
    return this.kvHeads * (this.keyDim + this.valueDim);
  }

  private ensure(n: number): void {
    if (n <= this.capacity) return;
    const cap = Math.max(n, this.capacity * 2);
    this.k = regrow(this.k, this.kvHeads, this.capacity, cap, this.keyDim, this.length);
    this.v = regrow(this.v, this.kvHeads, this.capacity, cap, this.valueDim, this.length);
    this.capacity = cap;
  }

  /** Appends keys [T, Hkv, Dk] and values [T, Hkv, Dv] (row-major f32, as the projections give them). */
  append(keys: Float32Array, values: Float32Array, T: number): void {
    this.ensure(this.length + T);
    scatterHeads(keys, this.k, T, this.kvHeads, this.keyDim, this.capacity, this.length);
    scatterHeads(values, this.v, T, this.kvHeads, this.valueDim, this.capacity, this.length);
    this.length += T;
  }

  /** All cached keys and values as [1, Hkv, L, D] views for the attention op (no copy). */
  view(): { k: Tensor; v: Tensor } {
    const { kvHeads: H, length: L, capacity: C } = this;
    return {
      k: new Tensor(this.k, [1, H, L, this.keyDim], 'f32', [H * C * this.keyDim, C * this.keyDim, this.keyDim, 1], 0),
      v: new Tensor(this.v, [1, H, L, this.valueDim], 'f32', [H * C * this.valueDim, C * this.valueDim, this.valueDim, 1], 0),
    };
  }

  /** Forgets tokens past `n` (prefix reuse, speculative rollback). */
  truncate(n: number): void {
    this.length = Math.min(this.length, n);
  }

  /** A copy holding the first `n` tokens (default all), room for `capacity` (prefix-cache reuse). */
  clone(n = this.length, capacity = n): KVCache {
    const len = Math.min(n, this.length);
    const c = new KVCache(this.kvHeads, this.keyDim, this.valueDim, Math.max(capacity, len));
    for (let h = 0; h < this.kvHeads; h++) {
      c.k.set(this.k.subarray(h * this.capacity * this.keyDim, (h * this.capacity + len) * this.keyDim), h * c.capacity * this.keyDim);
      c.v.set(
        this.v.subarray(h * this.capacity * this.valueDim, (h * this.capacity + len) * this.valueDim),
        h * c.capacity * this.valueDim,
      );
    }
    c.length = len;
    return c;
  }
}

/** Writes rows [T, H, D] into heads-first storage [H, cap, D] at position `at`. */
function scatterHeads(src: Float32Array, dst: Float32Array, T: number, H: number, D: number, cap: number, at: number): void {
  for (let t = 0; t < T; t++) {
    for (let h = 0; h < H; h++) dst.set(src.subarray((t * H + h) * D, (t * H + h + 1) * D), (h * cap + at + t) * D);
  }
}

/** Heads-first storage moved to a larger capacity (the first `len` rows of each head kept). */
function regrow(src: Float32Array, H: number, cap: number, newCap: number, D: number, len: number): Float32Array {
  const out = new Float32Array(H * newCap * D);
  for (let h = 0; h < H; h++) out.set(src.subarray(h * cap * D, (h * cap + len) * D), h * newCap * D);
  return out;
}

export class LatentCache {
  /** [capacity, kvLoraRank + ropeDim]: the normalised latent, then the rotated RoPE key. */
  private data: Float32Array;
  length = 0;

  constructor(
    readonly kvLoraRank: number,
    readonly ropeDim: number,
    public capacity: number,
  ) {
    this.data = new Float32Array(capacity * (kvLoraRank + ropeDim));
  }

  get valuesPerToken(): number {
    return this.kvLoraRank + this.ropeDim;
  }

  /** Appends T rows of [latent | ropeKey]. */
  append(rows: Float32Array, T: number): void {
    const w = this.valuesPerToken;
    if (this.length + T > this.capacity) {
      const cap = Math.max(this.length + T, this.capacity * 2);
      const d = new Float32Array(cap * w);
      d.set(this.data);
      this.data = d;
      this.capacity = cap;
    }
    this.data.set(rows, this.length * w);
    this.length += T;
  }

  /** The cached rows as a [1, 1, L, kvLoraRank + ropeDim] tensor (a view, no copy). */
  view(): Tensor {
    const w = this.valuesPerToken;
    return new Tensor(this.data.subarray(0, this.length * w), [1, 1, this.length, w], 'f32');
  }

  truncate(n: number): void {
    this.length = Math.min(this.length, n);
  }

  /** A copy holding the first `n` tokens (default all), room for `capacity` (prefix-cache reuse). */
  clone(n = this.length, capacity = n): LatentCache {
    const len = Math.min(n, this.length);
    const c = new LatentCache(this.kvLoraRank, this.ropeDim, Math.max(capacity, len));
    c.append(this.data.subarray(0, len * this.valuesPerToken), len);
    return c;
  }
}

export type LayerCache = KVCache | LatentCache;
