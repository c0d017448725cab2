/**
 * Grouped-query attention (Llama, Qwen2 — the bases of the R1-Distill models): per-head Q, shared
 * K/V heads, rotate-half RoPE, an optional per-sequence KV cache.
 */
import * as T from '../tensor/index.ts';
import type { Tensor } from '../tensor/index.ts';
import type { Weights } from './weights.ts';
import { projection } from './linear.ts';
import { KVCache, type LayerCache } from './cache.ts';

/** What every attention flavour receives besides its input. */
export interface AttentionContext {
  /** cos/sin rows for the positions being computed ([T, half] or [B, T, half]). */
  cos: Tensor;
  sin: Tensor;
  /** One cache per batch row, when decoding. */
  caches?: LayerCache[];
}

export interface GqaDims {
  hiddenSize: number;
  numAttentionHeads: number;
  numKeyValueHeads: number;
  headDim: number;
}

export class GroupedQueryAttention {
  private readonly q: Tensor;
  private readonly k: Tensor;
  private readonly v: Tensor;
  private readonly o: Tensor;
  private readonly qBias?: Tensor;
  private readonly kBias?: Tensor;
  private readonly vBias?: Tensor;
  private readonly oBias?: Tensor;

  constructor(
    w: Weights,
    prefix: string,
    readonly dims: GqaDims,
  ) {
    this.q = w.get(`${prefix}.q_proj.weight`);
    this.k = w.get(`${prefix}.k_proj.weight`);
    this.v = w.get(`${prefix}.v_proj.weight`);
    this.o = w.get(`${prefix}.o_proj.weight`);
    this.qBias = w.maybe(`${prefix}.q_proj.bias`);
    this.kBias = w.maybe(`${prefix}.k_proj.bias`);
    this.vBias = w.maybe(`${prefix}.v_proj.bias`);
    this.oBias = w.maybe(`${prefix}.o_proj.bias`);
  }

  newCache(capacity: number): KVCache {
    const { numKeyValueHeads: Hkv, headDim } = this.dims;
    return new KVCache(Hkv, headDim, headDim, capacity);
  }

  forward(x: Tensor, ctx: AttentionContext): Tensor {
    const [B, Tn] = x.shape as [number, number];
    const { numAttentionHeads: H, numKeyValueHeads: Hkv, headDim: D } = this.dims;
    const q = T.rope(T.reshape(projection(x, this.q, this.qBias), [B, Tn, H, D]), ctx.cos, ctx.sin, 'half');
    const k = T.rope(T.reshape(projection(x, this.k, this.kBias), [B, Tn, Hkv, D]), ctx.cos, ctx.sin, 'half');
    const v = T.reshape(projection(x, this.v, this.vBias), [B, Tn, Hkv, D]);
    let out: Tensor;
    if (ctx.caches) {
      const rows: Tensor[] = [];
      for (let b = 0; b < B; b++) {
        const cache = ctx.caches[b] as KVCache;
        cache.append(T.floatData(T.slice(k, 0, b, b + 1)) as Float32Array, T.floatData(T.slice(v, 0, b, b + 1)) as Float32Array, Tn);
        const kv = cache.view();
        rows.push(T.attention(T.transpose(T.slice(q, 0, b, b + 1), 1, 2), kv.k, kv.v));
      }
      out = rows.length === 1 ? rows[0]! : T.concat(rows, 0);
    } else {
      out = T.attention(T.transpose(q, 1, 2), T.transpose(k, 1, 2), T.transpose(v, 1, 2));
    }
    return projection(T.reshape(T.transpose(out, 1, 2), [B, Tn, H * D]), this.o, this.oBias);
  }
}
