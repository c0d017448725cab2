/**
 * Decoding caches, one per sequence per layer, preallocated to a capacity. `KVCache` holds full
 * per-head keys and values (Llama/Qwen2 GQA). `LatentCache` is MLA's: only the compressed latent
 * c_kv (kv_lora_rank values) and the shared RoPE key (qk_rope_head_dim values) per token.
 */
import { Tensor } from '../tensor/index.ts';

export class KVCache {
  /** Stored [capacity, Hkv, D]: appending a token writes one contiguous row. */
  private k: Float32Array;
  private v: Float32Array;
  length = 0;

  constructor(readonly kvHeads: number, readonly keyDim: number, readonly valueDim: number, public capacity: number) {
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
    const k = new Float32Array(cap * this.kvHeads * this.keyDim);
    const v = new Float32Array(cap * this.kvHeads * this.valueDim);
    k.set(this.k);
    v.set(this.v);
    this.k = k;
    this.v = v;
    this.capacity = cap;
  }

  /** Appends keys [T, Hkv, Dk] and values [T, Hkv, Dv] (row-major f32). */
  append(keys: Float32Array, values: Float32Array, T: number): void {
    this.ensure(this.length + T);
    this.k.set(keys, this.length * this.kvHeads * this.keyDim);
    this.v.set(values, this.length * this.kvHeads * this.valueDim);
    this.length += T;
  }

  /** All cached keys and values as [1, Hkv, L, D] tensors for the attention op. */
  view(): { k: Tensor; v: Tensor } {
    return { k: headsFirst(this.k, this.length, this.kvHeads, this.keyDim), v: headsFirst(this.v, this.length, this.kvHeads, this.valueDim) };
  }

  /** Forgets tokens past `n` (prefix reuse, speculative rollback). */
  truncate(n: number): void {
    this.length = Math.min(this.length, n);
  }

  /** A copy holding the first `n` tokens (default all), room for `capacity` (prefix-cache reuse). */
  clone(n = this.length, capacity = n): KVCache {
    const len = Math.min(n, this.length);
    const c = new KVCache(this.kvHeads, this.keyDim, this.valueDim, Math.max(capacity, len));
    c.append(this.k.subarray(0, len * this.kvHeads * this.keyDim), this.v.subarray(0, len * this.kvHeads * this.valueDim), len);
    return c;
  }
}

function headsFirst(src: Float32Array, L: number, H: number, D: number): Tensor {
  const out = new Float32Array(H * L * D);
  for (let t = 0; t < L; t++) {
    for (let h = 0; h < H; h++) out.set(src.subarray((t * H + h) * D, (t * H + h + 1) * D), (h * L + t) * D);
  }
  return new Tensor(out, [1, H, L, D], 'f32');
}

export class LatentCache {
  /** [capacity, kvLoraRank + ropeDim]: the normalised latent, then the rotated RoPE key. */
  private data: Float32Array;
  length = 0;

  constructor(readonly kvLoraRank: number, readonly ropeDim: number, public capacity: number) {
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
