/**
 * Expert load balance in DeepSeekMoE (DeepSeek-V3 §2.1.2):
 *
 * - the **auxiliary-loss-free** strategy: each router's `e_score_correction_bias` is nudged after a
 *   step by γ toward equal load (b_i += γ·sign(mean load − load_i)), from the loads counted over
 *   the step's micro-batches — `LoadTracker`;
 * - the **complementary sequence-wise balance loss** (eqs. 17–20), a small α-weighted term that
 *   keeps any single sequence from piling onto a few experts — `sequenceBalanceLoss`.
 *
 * Both cover every DeepSeekMoE of the model: the main layers and the MTP modules' blocks (which have
 * routers of their own, numbered after the main layers as in the checkpoints).
 */
import * as T from '../tensor/index.ts';
import { Tensor } from '../tensor/index.ts';
import type { CausalLM, LayerRouting } from '../model/causal-lm.ts';
import { DeepSeekMoE, type Routing } from '../model/moe.ts';

/** A MoE block and its layer id (MTP module k's block is layer numHiddenLayers + k). */
export interface MoeLayerRef {
  layer: number;
  moe: DeepSeekMoE;
}

/** Every DeepSeekMoE of the model, main layers first, then the MTP modules' blocks. */
export function moeLayerRefs(model: CausalLM): MoeLayerRef[] {
  const refs: MoeLayerRef[] = [];
  model.layers.forEach((l, i) => {
    if (l.ffn instanceof DeepSeekMoE) refs.push({ layer: i, moe: l.ffn });
  });
  model.mtp.forEach((m, k) => {
    if (m.block.ffn instanceof DeepSeekMoE) refs.push({ layer: model.layers.length + k, moe: m.block.ffn });
  });
  return refs;
}

/**
 * L_Bal = α · Σ_i f_i · P_i for each of `batch` sequences, averaged over them (DeepSeek-V3 eqs.
 * 17–20), from one MoE layer's routing of `batch` sequences of equal length T (rows of the scores
 * in [sequence, time] order):
 *   f_i = N_r / (K_r · T) · Σ_t 1[expert i among token t's top-K_r],
 *   s'_{i,t} = s_{i,t} / Σ_j s_{j,t},   P_i = (1/T) Σ_t s'_{i,t}.
 * f is a count (no gradient); P carries the gradient to the router through the scores.
 */
export function sequenceBalanceLoss(routing: Routing, batch: number, alpha: number): Tensor {
  const scores = routing.scores;
  const [N, E] = scores.shape as [number, number];
  if (N % batch !== 0) throw new Error(`sequenceBalanceLoss: ${N} routed tokens do not split into ${batch} sequences`);
  const Tn = N / batch;
  const K = routing.indices.length / N;
  const dtype = scores.dtype === 'f64' ? 'f64' : 'f32';
  const f = Tensor.zeros([batch, E], dtype);
  const fd = f.data as Float32Array | Float64Array;
  const unit = E / (K * Tn);
  for (let n = 0; n < N; n++) {
    const row = Math.floor(n / Tn) * E;
    for (let j = 0; j < K; j++) fd[row + routing.indices[n * K + j]!] += unit;
  }
  const normalised = T.div(scores, T.sum(scores, -1, true));
  const P = T.mean(T.reshape(normalised, [batch, Tn, E]), 1); // [batch, E]
  return T.mul(T.sum(T.mul(P, f)), alpha / batch);
}

/** Per-layer load of the experts over what was recorded. */
export interface LoadStats {
  layer: number;
  /** Tokens routed to the busiest expert. */
  max: number;
  /** Mean tokens per expert. */
  mean: number;
  /** max / mean: 1 is perfect balance, N_r / K_r the worst. */
  maxOverMean: number;
}

/**
 * Counts expert loads over the micro-batches of a step and applies the aux-loss-free bias update
 * with them. Call `record()` after each micro-batch's forward, `updateBiases(γ)` after the step.
 */
export class LoadTracker {
  private readonly refs: MoeLayerRef[];
  private readonly totals: Int32Array[];
  private readonly recorded: boolean[];
  /** Index into refs by layer id. */
  private readonly byLayer = new Map<number, number>();

  constructor(model: CausalLM) {
    this.refs = moeLayerRefs(model);
    this.totals = this.refs.map((r) => new Int32Array(r.moe.dims.nRoutedExperts));
    this.recorded = this.refs.map(() => false);
    this.refs.forEach((r, i) => this.byLayer.set(r.layer, i));
  }

  /** Adds the expert loads of one forward's routings (what the forward pass returned). */
  record(routings: readonly LayerRouting[]): void {
    for (const { layer, routing } of routings) {
      const i = this.byLayer.get(layer);
      if (i === undefined) throw new Error(`LoadTracker: layer ${layer} is not a MoE layer of this model`);
      const t = this.totals[i]!;
      for (let e = 0; e < t.length; e++) t[e] += routing.load[e]!;
      this.recorded[i] = true;
    }
  }

  /** Load statistics per MoE layer that recorded anything since the last reset. */
  stats(): LoadStats[] {
    const out: LoadStats[] = [];
    this.refs.forEach((r, i) => {
      if (!this.recorded[i]) return;
      const t = this.totals[i]!;
      let max = 0;
      let sum = 0;
      for (const v of t) {
        max = Math.max(max, v);
        sum += v;
      }
      const mean = sum / t.length;
      out.push({ layer: r.layer, max, mean, maxOverMean: mean > 0 ? max / mean : 1 });
    });
    return out;
  }

  /** The aux-loss-free step: b_i += γ·sign(mean − load_i) per layer with the accumulated loads; then reset. */
  updateBiases(gamma: number): void {
    this.refs.forEach((r, i) => {
      if (this.recorded[i]) r.moe.updateBias(gamma, this.totals[i]!);
    });
    this.reset();
  }

  /** Forgets the accumulated loads. */
  reset(): void {
    for (const t of this.totals) t.fill(0);
    this.recorded.fill(false);
  }
}
