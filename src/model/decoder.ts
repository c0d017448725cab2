/** A pre-norm Transformer block: h = x + Attn(RMSNorm(x)); out = h + FFN(RMSNorm(h)). */
import * as T from '../tensor/index.ts';
import type { Tensor } from '../tensor/index.ts';
import type { Weights } from './weights.ts';
import type { AttentionContext } from './attention.ts';
import type { LayerCache } from './cache.ts';
import { norm, readGroup, type ParamDecl } from './declare.ts';
import type { Mlp } from './mlp.ts';
import type { DeepSeekMoE, Routing } from './moe.ts';

export interface AttentionBlock {
  forward(x: Tensor, ctx: AttentionContext): Tensor;
  newCache(capacity: number): LayerCache;
}

/** A dense SwiGLU FFN, or DeepSeekMoE (which also reports its routing). */
export type FeedForwardBlock = Mlp | DeepSeekMoE;

export interface DecoderNormParams {
  readonly inputNorm: ParamDecl;
  readonly postAttentionNorm: ParamDecl;
}

export function decoderNormParams(prefix: string, hidden: number): DecoderNormParams {
  return {
    inputNorm: norm(`${prefix}.input_layernorm.weight`, hidden),
    postAttentionNorm: norm(`${prefix}.post_attention_layernorm.weight`, hidden),
  };
}

/** A block's output, with the MoE routing when its FFN is DeepSeekMoE. */
export interface BlockOutput {
  hidden: Tensor;
  routing?: Routing;
}

export class DecoderLayer {
  readonly inputNorm: Tensor;
  readonly postAttentionNorm: Tensor;

  constructor(
    w: Weights,
    norms: DecoderNormParams,
    readonly attention: AttentionBlock,
    readonly ffn: FeedForwardBlock,
    readonly eps: number,
  ) {
    const t = readGroup(w, norms);
    this.inputNorm = t.inputNorm;
    this.postAttentionNorm = t.postAttentionNorm;
  }

  forward(x: Tensor, ctx: AttentionContext): BlockOutput {
    const h = T.add(x, this.attention.forward(T.rmsNorm(x, this.inputNorm, this.eps), ctx));
    const f = this.ffn.forward(T.rmsNorm(h, this.postAttentionNorm, this.eps));
    if ('routing' in f) return { hidden: T.add(h, f.out), routing: f.routing };
    return { hidden: T.add(h, f) };
  }
}
