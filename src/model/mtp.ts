/**
 * Multi-Token Prediction (DeepSeek-V3 §2.2). Module k predicts token i+k+1 from the previous depth's
 * representation of token i and the embedding of token i+k, keeping the causal chain:
 *   h'_i = W_eh · [RMSNorm_e(Emb(t_{i+k})); RMSNorm_h(h_i^{k−1})],   h_i^k = Block_k(h'_i),
 *   logits = Head(RMSNorm(h_i^k)).
 * The embedding and output head are the main model's (shared); released checkpoints store the module
 * at layer index num_hidden_layers + k − 1 with `enorm`, `hnorm`, `eh_proj`, a full decoder block and
 * `shared_head.norm`. The embedding comes first in the concatenation, as in the released weights.
 */
import * as T from '../tensor/index.ts';
import type { Tensor } from '../tensor/index.ts';
import type { Weights } from './weights.ts';
import type { DecoderLayer } from './decoder.ts';
import type { AttentionContext } from './attention.ts';
import type { Routing } from './moe.ts';
import { matrix, norm, readGroup, type ParamDecl } from './declare.ts';

/** The module's own parameters (its decoder block is declared like any other block). */
export interface MtpParams {
  readonly enorm: ParamDecl;
  readonly hnorm: ParamDecl;
  readonly ehProj: ParamDecl;
  readonly headNorm: ParamDecl;
}

/** enorm, hnorm, eh_proj [hidden, 2·hidden], shared_head.norm; counted as norms / attention-free extras. */
export function mtpParams(prefix: string, hidden: number): MtpParams {
  return {
    enorm: norm(`${prefix}.enorm.weight`, hidden),
    hnorm: norm(`${prefix}.hnorm.weight`, hidden),
    ehProj: matrix(`${prefix}.eh_proj.weight`, hidden, 2 * hidden, 'attention'),
    headNorm: norm(`${prefix}.shared_head.norm.weight`, hidden),
  };
}

export class MtpModule {
  readonly enorm: Tensor;
  readonly hnorm: Tensor;
  readonly ehProj: Tensor;
  readonly headNorm: Tensor;

  constructor(
    w: Weights,
    params: MtpParams,
    readonly block: DecoderLayer,
    readonly eps: number,
  ) {
    const t = readGroup(w, params);
    this.enorm = t.enorm;
    this.hnorm = t.hnorm;
    this.ehProj = t.ehProj;
    this.headNorm = t.headNorm;
  }

  /**
   * previous [B, T, D]: depth k−1's states for tokens 0..T−1; nextEmbeddings [B, T, D]: embeddings of
   * the tokens k positions ahead. Returns this depth's states (input to depth k+1), the normalised
   * states to feed the shared head, and the block's MoE routing when it has one.
   */
  forward(previous: Tensor, nextEmbeddings: Tensor, ctx: AttentionContext): { hidden: Tensor; normed: Tensor; routing?: Routing } {
    const merged = T.linear(
      T.concat([T.rmsNorm(nextEmbeddings, this.enorm, this.eps), T.rmsNorm(previous, this.hnorm, this.eps)], -1),
      this.ehProj,
    );
    const { hidden, routing } = this.block.forward(merged, ctx);
    return { hidden, normed: T.rmsNorm(hidden, this.headNorm, this.eps), routing };
  }
}
