/**
 * DeepSeek-V3's pre-training objective (§2.2, §2.1.2): next-token cross-entropy, plus the
 * Multi-Token Prediction loss, plus the complementary sequence-wise balance loss.
 *
 *   L = L_main + λ/D · Σ_{k=1..D} L_MTP^k + L_Bal
 *
 * - L_main: mean CE of predicting ids[:, 1:] from ids[:, :T].
 * - L_MTP^k: MTP module k (sequential, sharing the embedding and head, keeping the causal chain)
 *   at position i predicts token i + k + 1 of the inputs, i.e. target ids[:, i + k + 1]; mean CE over
 *   its T − k valid positions. D is the number of MTP modules, λ = `mtpWeight`.
 * - L_Bal: `sequenceBalanceLoss` (α = `balanceAlpha`) of every MoE layer that routed in this
 *   forward, main and MTP blocks alike, summed (the report's per-layer loss, added; `sum`) or averaged
 *   (`mean`: an effective α / L).
 */
import * as T from '../tensor/index.ts';
import type { Tensor } from '../tensor/index.ts';
import type { CausalLM, ForwardOptions, ForwardResult, LayerRouting } from '../model/causal-lm.ts';
import type { Param } from './optim/params.ts';
import type { JsonObject } from './config/reader.ts';
import { sequenceBalanceLoss } from './balance.ts';

export interface ObjectiveConfig {
  /** λ, the MTP loss weight (DeepSeek-V3: 0.3 for the first 10T tokens, then 0.1). 0 skips MTP. */
  mtpWeight: number;
  /** α of the sequence-wise balance loss (DeepSeek-V3: 0.0001; config `aux_loss_alpha`). 0 skips it. */
  balanceAlpha: number;
  /** How per-layer balance losses combine (default 'mean'). */
  balanceReduction?: 'sum' | 'mean';
}

export interface ObjectiveResult {
  /** The differentiable total L (call backward on it). */
  total: Tensor;
  /** L_main, the next-token cross-entropy. */
  ce: number;
  /** L_MTP^k for k = 1..D (unweighted), empty when MTP is off or absent. */
  mtp: number[];
  /** L_Bal as added to the total (already α-weighted); 0 when off. */
  balance: number;
  /** Every MoE block's routing in this forward, main layers then MTP blocks (expert loads). */
  routings: LayerRouting[];
  /** The model's forward pass (logits, and hidden states when asked for). */
  forward: ForwardResult;
  /** Further named terms a custom objective adds (metrics.jsonl records them under `parts`). */
  parts?: Record<string, number>;
}

/**
 * An objective that replaces lmObjective in the pre-training loop (src/train/trainer.ts), e.g.
 * distillation's (src/posttrain/distill): the loss of one micro-batch, any trainable tensors of its
 * own (optimised with the model's, kept in the trainer state, never in the model file), and what it
 * adds to the run config a checkpoint saves.
 */
export interface TrainObjective {
  loss(model: CausalLM, ids: Tensor, cfg: ObjectiveConfig): ObjectiveResult;
  /** Trainable tensors beside the model's. */
  readonly params: readonly Param[];
  /** Keys merged into run.json and the trainer state's run config (how a resume rebuilds the objective). */
  readonly runJson: JsonObject;
}

/** Mean CE of logits [B, L, V] against targets [B, L] (a strided view is fine). */
function meanCe(logits: Tensor, targets: Tensor): Tensor {
  const [B, L, V] = logits.shape as [number, number, number];
  return T.crossEntropy(T.reshape(logits, [B * L, V]), T.reshape(T.contiguous(targets), [B * L]));
}

/** The full objective for a batch of token windows ids [B, T+1] (i32). */
export function lmObjective(model: CausalLM, ids: Tensor, cfg: ObjectiveConfig, opts: ForwardOptions = {}): ObjectiveResult {
  if (ids.rank !== 2 || ids.dtype !== 'i32') throw new Error(`lmObjective needs i32 ids [batch, T+1], got ${ids.dtype} [${ids.shape}]`);
  const [B, T1] = ids.shape as [number, number];
  const Tn = T1 - 1;
  if (Tn < 1) throw new Error(`lmObjective needs at least 2 tokens per row, got ${T1}`);
  const inputs = T.contiguous(T.slice(ids, 1, 0, Tn));

  const forward = model.forward(inputs, opts);
  const { logits, final } = forward;
  const routings = [...forward.routings];
  const ce = meanCe(logits!, T.slice(ids, 1, 1, T1));
  let total = ce;

  const mtp: number[] = [];
  const D = model.mtp.length;
  if (cfg.mtpWeight > 0 && D > 0) {
    const depths = model.mtpLogits(inputs, final);
    routings.push(...depths.routings);
    depths.logits.forEach((depthLogits, d) => {
      const k = d + 1;
      // Position i of depth k predicts token i + k + 1: targets ids[:, k+1 .. T].
      const Lk = meanCe(depthLogits, T.slice(ids, 1, k + 1, T1));
      mtp.push(Lk.item());
      total = T.add(total, T.mul(Lk, cfg.mtpWeight / D));
    });
  }

  let balance = 0;
  if (cfg.balanceAlpha > 0) {
    const terms = routings.map((r) => sequenceBalanceLoss(r.routing, B, cfg.balanceAlpha));
    if (terms.length > 0) {
      const sum = terms.reduce((a, b) => T.add(a, b));
      const bal = cfg.balanceReduction === 'sum' ? sum : T.mul(sum, 1 / terms.length);
      balance = bal.item();
      total = T.add(total, bal);
    }
  }
  return { total, ce: ce.item(), mtp, balance, routings, forward };
}
