/**
 * Multi-head Latent Attention (DeepSeek-V2 §2.1, DeepSeek-V3 §2.1.1).
 *
 * Keys and values are rebuilt from a low-rank latent c_kv = RMSNorm(W_DKV·h) (kv_lora_rank values)
 * plus one RoPE key k_pe shared by all heads (the "decoupled" RoPE). Queries go through their own
 * low-rank bottleneck (q_lora_rank) when the checkpoint has one (V3), or a plain projection (V2-Lite).
 *
 * Two equivalent forms live here:
 * - `naive`: expand c_kv to per-head keys/values with kv_b_proj and attend — used for training and as
 *   the reference;
 * - `absorbed`: fold kv_b_proj's key half into the query and its value half into the output, so
 *   attention runs directly over the cached latents — what decoding uses, with a cache of only
 *   (kv_lora_rank + qk_rope_head_dim) values per token per layer.
 * With a cache, a long chunk of new tokens (a prompt) attends in the expanded form over the cached
 * latents instead: per query-key pair it costs nope + rope + v multiply-adds per head against the
 * absorbed form's 2·kv_lora_rank + rope (DeepSeek-V2-Lite: 320 vs 1088), which outweighs expanding
 * the cache once. Decoding steps (one token) stay absorbed.
 */
import * as T from '../tensor/index.ts';
import { Tensor, noGrad, type RopeLayout } from '../tensor/index.ts';
import type { Weights } from './weights.ts';
import { bias, matrix, norm, readGroup, type ParamDecl } from './declare.ts';
import { projection } from './linear.ts';
import type { AttentionContext } from './attention.ts';
import { LatentCache } from './cache.ts';

/** New tokens from which a cached forward attends in the expanded form (see the header). */
export const EXPANDED_PREFILL_MIN = 16;

export interface MlaDims {
  hiddenSize: number;
  numAttentionHeads: number;
  qLoraRank: number | null;
  kvLoraRank: number;
  qkNopeHeadDim: number;
  qkRopeHeadDim: number;
  vHeadDim: number;
  rmsNormEps: number;
  /** `attention_bias`: q_a, kv_a and o projections carry biases. */
  attentionBias: boolean;
  /**
   * `rope_interleave`: the rope channels of q_pe / k_pe rotate in adjacent pairs (DeepSeek's released
   * weights); false: as two halves (rotate_half), the layout of checkpoints permuted for it.
   */
  ropeInterleave: boolean;
}

/** MLA's projections (q through a low-rank bottleneck when q_lora_rank is set) and latent norms. */
export interface MlaParams {
  readonly qProj?: ParamDecl;
  readonly qA?: ParamDecl;
  readonly qABias?: ParamDecl;
  readonly qANorm?: ParamDecl;
  readonly qB?: ParamDecl;
  readonly kvA: ParamDecl;
  readonly kvABias?: ParamDecl;
  readonly kvANorm: ParamDecl;
  readonly kvB: ParamDecl;
  readonly o: ParamDecl;
  readonly oBias?: ParamDecl;
}

export function mlaParams(p: string, d: MlaDims): MlaParams {
  const h = d.hiddenSize;
  const heads = d.numAttentionHeads;
  const qk = d.qkNopeHeadDim + d.qkRopeHeadDim;
  const kvA = d.kvLoraRank + d.qkRopeHeadDim;
  const b = d.attentionBias;
  const part = 'attention';
  const q =
    d.qLoraRank === null
      ? { qProj: matrix(`${p}.q_proj.weight`, heads * qk, h, part) } // never biased
      : {
          qA: matrix(`${p}.q_a_proj.weight`, d.qLoraRank, h, part),
          qABias: b ? bias(`${p}.q_a_proj.bias`, d.qLoraRank, part) : undefined,
          qANorm: norm(`${p}.q_a_layernorm.weight`, d.qLoraRank, part),
          qB: matrix(`${p}.q_b_proj.weight`, heads * qk, d.qLoraRank, part),
        };
  return {
    ...q,
    kvA: matrix(`${p}.kv_a_proj_with_mqa.weight`, kvA, h, part),
    kvABias: b ? bias(`${p}.kv_a_proj_with_mqa.bias`, kvA, part) : undefined,
    kvANorm: norm(`${p}.kv_a_layernorm.weight`, d.kvLoraRank, part),
    kvB: matrix(`${p}.kv_b_proj.weight`, heads * (d.qkNopeHeadDim + d.vHeadDim), d.kvLoraRank, part),
    o: matrix(`${p}.o_proj.weight`, h, heads * d.vHeadDim, part),
    oBias: b ? bias(`${p}.o_proj.bias`, h, part) : undefined,
  };
}

export class MultiHeadLatentAttention {
  private readonly qProj?: Tensor;
  private readonly qA?: Tensor;
  private readonly qANorm?: Tensor;
  private readonly qB?: Tensor;
  private readonly kvA: Tensor;
  private readonly kvANorm: Tensor;
  private readonly kvB: Tensor;
  private readonly o: Tensor;
  private readonly qABias?: Tensor;
  private readonly kvABias?: Tensor;
  private readonly oBias?: Tensor;
  private readonly ropeLayout: RopeLayout;
  /** kv_b_proj split per head into W_UK [H, nope, r] and W_UV [H, v, r], decoded once for absorption. */
  private absorbedWeights?: { uk: Tensor; uv: Tensor };

  constructor(
    w: Weights,
    prefix: string,
    readonly dims: MlaDims,
    readonly softmaxScale: number,
  ) {
    const t = readGroup(w, mlaParams(prefix, dims));
    this.qProj = t.qProj;
    this.qA = t.qA;
    this.qABias = t.qABias;
    this.qANorm = t.qANorm;
    this.qB = t.qB;
    this.kvA = t.kvA;
    this.kvABias = t.kvABias;
    this.kvANorm = t.kvANorm;
    this.kvB = t.kvB;
    this.o = t.o;
    this.oBias = t.oBias;
    this.ropeLayout = dims.ropeInterleave ? 'interleaved' : 'half';
  }

  newCache(capacity: number): LatentCache {
    return new LatentCache(this.dims.kvLoraRank, this.dims.qkRopeHeadDim, capacity);
  }

  /** Queries [B, T, H, nope + rope], RoPE already applied to the rope part. */
  private queries(x: Tensor, ctx: AttentionContext): { qNope: Tensor; qPe: Tensor } {
    const [B, Tn] = x.shape as [number, number];
    const { numAttentionHeads: H, qkNopeHeadDim: nope, qkRopeHeadDim: rope, rmsNormEps } = this.dims;
    const q = this.qProj
      ? projection(x, this.qProj)
      : projection(T.rmsNorm(projection(x, this.qA!, this.qABias), this.qANorm!, rmsNormEps), this.qB!);
    const q4 = T.reshape(q, [B, Tn, H, nope + rope]);
    const [qNope, qPe] = T.split(q4, [nope, rope], -1) as [Tensor, Tensor];
    return { qNope, qPe: T.rope(qPe, ctx.cos, ctx.sin, this.ropeLayout) };
  }

  /** The normalised latent c_kv [B, T, r] and the rotated shared key k_pe [B, T, 1, rope]. */
  private latents(x: Tensor, ctx: AttentionContext): { cKv: Tensor; kPe: Tensor } {
    const [B, Tn] = x.shape as [number, number];
    const { kvLoraRank: r, qkRopeHeadDim: rope, rmsNormEps } = this.dims;
    const [c, kPe] = T.split(projection(x, this.kvA, this.kvABias), [r, rope], -1) as [Tensor, Tensor];
    return {
      cKv: T.rmsNorm(c, this.kvANorm, rmsNormEps),
      kPe: T.rope(T.reshape(kPe, [B, Tn, 1, rope]), ctx.cos, ctx.sin, this.ropeLayout),
    };
  }

  forward(x: Tensor, ctx: AttentionContext): Tensor {
    if (!ctx.caches) return this.naive(x, ctx);
    return x.shape[1]! >= EXPANDED_PREFILL_MIN ? this.expandedOverCache(x, ctx) : this.absorbed(x, ctx);
  }

  /** New tokens appended to the latent cache, then attention in the expanded form over all cached rows. */
  expandedOverCache(x: Tensor, ctx: AttentionContext): Tensor {
    const [B, Tn] = x.shape as [number, number];
    const { numAttentionHeads: H, kvLoraRank: r, qkNopeHeadDim: nope, qkRopeHeadDim: rope, vHeadDim: vd } = this.dims;
    const caches = ctx.caches as LatentCache[];
    const { qNope, qPe } = this.queries(x, ctx);
    const { cKv, kPe } = this.latents(x, ctx);
    const rows = T.concat([cKv, T.reshape(kPe, [B, Tn, rope])], -1);
    const q = T.concat([qNope, qPe], -1); // [B, T, H, nope + rope]
    const outs: Tensor[] = [];
    for (let b = 0; b < B; b++) {
      const cache = caches[b]!;
      cache.append(T.floatData(T.slice(rows, 0, b, b + 1)) as Float32Array, Tn);
      const all = cache.view(); // [1, 1, L, r + rope]
      const L = all.shape[2]!;
      const kv = T.reshape(projection(T.reshape(T.slice(all, 3, 0, r), [1, L, r]), this.kvB), [1, L, H, nope + vd]);
      const [kNope, v] = T.split(kv, [nope, vd], -1) as [Tensor, Tensor];
      const k = T.concat([kNope, T.expand(T.reshape(T.slice(all, 3, r, r + rope), [1, L, 1, rope]), [1, L, H, rope])], -1);
      const qb = T.slice(q, 0, b, b + 1);
      outs.push(T.attention(T.transpose(qb, 1, 2), T.transpose(k, 1, 2), T.transpose(v, 1, 2), { scale: this.softmaxScale }));
    }
    const out = outs.length === 1 ? outs[0]! : T.concat(outs, 0); // [B, H, T, vd]
    return projection(T.reshape(T.transpose(out, 1, 2), [B, Tn, H * vd]), this.o, this.oBias);
  }

  /** Per-head keys and values expanded from the latent, then ordinary causal attention. */
  naive(x: Tensor, ctx: AttentionContext): Tensor {
    const [B, Tn] = x.shape as [number, number];
    const { numAttentionHeads: H, qkNopeHeadDim: nope, qkRopeHeadDim: rope, vHeadDim: vd } = this.dims;
    const { qNope, qPe } = this.queries(x, ctx);
    const { cKv, kPe } = this.latents(x, ctx);
    const kv = T.reshape(projection(cKv, this.kvB), [B, Tn, H, nope + vd]);
    const [kNope, v] = T.split(kv, [nope, vd], -1) as [Tensor, Tensor];
    const q = T.concat([qNope, qPe], -1);
    const k = T.concat([kNope, T.expand(kPe, [B, Tn, H, rope])], -1);
    const out = T.attention(T.transpose(q, 1, 2), T.transpose(k, 1, 2), T.transpose(v, 1, 2), { scale: this.softmaxScale });
    return projection(T.reshape(T.transpose(out, 1, 2), [B, Tn, H * vd]), this.o, this.oBias);
  }

  /** Forgets the absorbed W_UK / W_UV: call after kv_b_proj changed in place (an optimizer step, then decoding). */
  invalidateAbsorbed(): void {
    this.absorbedWeights = undefined;
  }

  /** W_UK and W_UV per head from kv_b_proj, in f32 (decoded once until invalidated). */
  private absorption(): { uk: Tensor; uv: Tensor } {
    if (this.absorbedWeights) return this.absorbedWeights;
    const { numAttentionHeads: H, qkNopeHeadDim: nope, vHeadDim: vd, kvLoraRank: r } = this.dims;
    return noGrad(() => {
      const wkv = this.kvB.dtype === 'f32' || this.kvB.dtype === 'f64' ? T.cast(this.kvB, 'f32') : T.dequantize(this.kvB);
      const [uk, uv] = T.split(T.reshape(wkv, [H, nope + vd, r]), [nope, vd], 1) as [Tensor, Tensor];
      this.absorbedWeights = { uk: T.contiguous(uk), uv: T.contiguous(uv) };
      return this.absorbedWeights;
    });
  }

  /**
   * Attention over the latent cache. Scores: q_nopeᵀ·W_UK·c + q_peᵀ·k_pe, so the query is mapped
   * into latent space (q̃ = W_UKᵀ q_nope, r values per head) and attends, as a single shared KV head,
   * to rows [c_kv | k_pe]; the output latent is mapped back per head by W_UV, then o_proj.
   */
  absorbed(x: Tensor, ctx: AttentionContext): Tensor {
    const [B, Tn] = x.shape as [number, number];
    const { numAttentionHeads: H, kvLoraRank: r, qkRopeHeadDim: rope, vHeadDim: vd } = this.dims;
    const caches = ctx.caches as LatentCache[];
    const { uk, uv } = this.absorption();
    const { qNope, qPe } = this.queries(x, ctx);
    const { cKv, kPe } = this.latents(x, ctx);
    // q̃[b,t,h,:] = q_nope[b,t,h,:] · W_UK[h]  → [B, H, T, r]
    const qLatent = T.matmul(T.transpose(qNope, 1, 2), T.expand(T.unsqueeze(uk, 0), [B, H, uk.shape[1]!, r]));
    const q = T.concat([qLatent, T.transpose(qPe, 1, 2)], -1); // [B, H, T, r + rope]
    const rows = T.concat([cKv, T.reshape(kPe, [B, Tn, rope])], -1); // [B, T, r + rope]
    const outs: Tensor[] = [];
    for (let b = 0; b < B; b++) {
      const cache = caches[b]!;
      cache.append(T.floatData(T.slice(rows, 0, b, b + 1)) as Float32Array, Tn);
      const kv = cache.view(); // [1, 1, L, r + rope]
      const values = T.slice(kv, 3, 0, r);
      outs.push(T.attention(T.slice(q, 0, b, b + 1), kv, values, { scale: this.softmaxScale }));
    }
    const oLatent = outs.length === 1 ? outs[0]! : T.concat(outs, 0); // [B, H, T, r]
    // o[b,t,h,:] = W_UV[h] · õ[b,h,t,:]
    const o = T.matmul(oLatent, T.transpose(T.expand(T.unsqueeze(uv, 0), [B, H, vd, r]))); // [B, H, T, vd]
    return projection(T.reshape(T.transpose(o, 1, 2), [B, Tn, H * vd]), this.o, this.oBias);
  }
}
