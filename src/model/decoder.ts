/** A pre-norm Transformer block: h = x + Attn(RMSNorm(x)); out = h + FFN(RMSNorm(h)). */
import * as T from '../tensor/index.ts';
import type { Tensor } from '../tensor/index.ts';
import type { Weights } from './weights.ts';
import type { AttentionContext } from './attention.ts';
import type { LayerCache } from './cache.ts';

export interface AttentionBlock {
  forward(x: Tensor, ctx: AttentionContext): Tensor;
  newCache(capacity: number): LayerCache;
}

export interface FeedForwardBlock {
  forward(x: Tensor): Tensor;
}

export class DecoderLayer {
  readonly inputNorm: Tensor;
  readonly postAttentionNorm: Tensor;

  constructor(
    w: Weights,
    prefix: string,
    readonly attention: AttentionBlock,
    readonly ffn: FeedForwardBlock,
    readonly eps: number,
  ) {
    this.inputNorm = w.get(`${prefix}.input_layernorm.weight`);
    this.postAttentionNorm = w.get(`${prefix}.post_attention_layernorm.weight`);
  }

  forward(x: Tensor, ctx: AttentionContext): Tensor {
    const h = T.add(x, this.attention.forward(T.rmsNorm(x, this.inputNorm, this.eps), ctx));
    return T.add(h, this.ffn.forward(T.rmsNorm(h, this.postAttentionNorm, this.eps)));
  }
}
