/**
 * GRPO's objective (DeepSeekMath §4.1, DeepSeek-R1 §2.2.1), as TRL's GRPOTrainer computes it
 * (`_compute_loss` and the advantage code of `_generate_and_score_completions`). For a group of G
 * completions o_1..o_G of one prompt q with rewards r_1..r_G:
 *
 *   Â_i       = (r_i − mean(r_group)) / (std(r_group) + 1e-4)        scale_rewards 'group' (std unbiased)
 *             = (r_i − mean(r_group)) / (std(r_batch) + 1e-4)        'batch'
 *             =  r_i − mean(r_group)                                  'none' (Dr. GRPO)
 *   ρ_i,t     = π_θ(o_i,t | q, o_i,<t) / π_old(o_i,t | q, o_i,<t)      (old: the sampling policy; = π_θ
 *                                                                     detached when num_iterations = 1)
 *   ℓ_i,t     = −min(ρ_i,t Â_i, clip(ρ_i,t, 1 − ε_low, 1 + ε_high) Â_i) + β·KL_i,t
 *   KL_i,t    = π_ref/π_θ − log(π_ref/π_θ) − 1                         (Schulman's k3 estimator, ≥ 0)
 *
 * and the loss aggregates ℓ over completion tokens (mask M) by `loss_type`:
 *
 *   grpo     mean_i ( Σ_t M ℓ / Σ_t M )          each sequence's token mean, then the mean of those
 *   bnpo     Σ M ℓ / Σ M                         one token mean over the (micro-)batch
 *   dr_grpo  Σ M ℓ / (B · max_completion_length)  a constant normaliser, no length bias
 *   dapo     Σ M ℓ / N_tokens                     N_tokens: completion tokens of the whole step
 *                                                (all micro-batches), so accumulation gives a global token mean
 */
import * as T from '../../tensor/index.ts';
import { Tensor } from '../../tensor/index.ts';

export const LOSS_TYPES = ['grpo', 'bnpo', 'dr_grpo', 'dapo'] as const;
export type LossType = (typeof LOSS_TYPES)[number];
export const SCALE_REWARDS = ['group', 'batch', 'none'] as const;
export type ScaleRewards = (typeof SCALE_REWARDS)[number];

/** TRL's epsilon in the advantage denominator. */
const STD_EPS = 1e-4;

function mean(xs: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += xs[i]!;
  return s / xs.length;
}

/** Unbiased standard deviation (torch.std's default); 0 for a single value (where torch gives NaN). */
function std(xs: ArrayLike<number>): number {
  if (xs.length < 2) return 0;
  const m = mean(xs);
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += (xs[i]! - m) ** 2;
  return Math.sqrt(s / (xs.length - 1));
}

/**
 * Advantages of rewards laid out in TRL's order (groups of `G` consecutive completions of the same
 * prompt), scaled as `scale` says.
 */
export function groupAdvantages(rewards: ArrayLike<number>, G: number, scale: ScaleRewards): Float64Array {
  if (rewards.length % G !== 0) throw new Error(`${rewards.length} rewards are not groups of ${G}`);
  const out = new Float64Array(rewards.length);
  const batchStd = std(rewards);
  for (let g = 0; g < rewards.length / G; g++) {
    const group = Array.from({ length: G }, (_, k) => rewards[g * G + k]!);
    const m = mean(group);
    const s = scale === 'group' ? std(group) : batchStd;
    for (let k = 0; k < G; k++) {
      const a = group[k]! - m;
      out[g * G + k] = scale === 'none' ? a : a / (s + STD_EPS);
    }
  }
  return out;
}

/** Per-token k3 KL estimate exp(ref − logp) − (ref − logp) − 1, differentiable through `logps`. */
export function k3Kl(logps: Tensor, refLogps: Tensor): Tensor {
  const d = T.sub(refLogps, logps);
  return T.sub(T.sub(T.exp(d), d), 1);
}

/** clamp(x, lo, hi); the gradient passes where lo ≤ x ≤ hi (torch.clamp). */
function clamp(x: Tensor, lo: number, hi: number): Tensor {
  const out = T.map(x, (v) => Math.min(Math.max(v, lo), hi));
  return T.record(out, 'clamp', [x], (g) => [
    T.mul(
      g,
      T.map(x, (v) => (v >= lo && v <= hi ? 1 : 0)),
    ),
  ]);
}

/** Elementwise min(a, b), the gradient going to the smaller one. */
function minimum(a: Tensor, b: Tensor): Tensor {
  const aSmaller = T.noGrad(() => T.map(T.sub(b, a), (d) => (d >= 0 ? 1 : 0)));
  return T.where(aSmaller, a, b);
}

export interface GrpoLossInput {
  /** log π_θ per completion token [B, C] (differentiable). */
  logps: Tensor;
  /** log π_old [B, C]; null: π_θ detached (num_iterations = 1, where ρ = 1 but its gradient is not 0). */
  oldLogps: Tensor | null;
  /** log π_ref [B, C]; needed when beta > 0. */
  refLogps: Tensor | null;
  /** Â per row [B]. */
  advantages: ArrayLike<number>;
  /** Completion mask [B·C]. */
  mask: Float32Array;
  beta: number;
  epsilonLow: number;
  epsilonHigh: number;
  lossType: LossType;
  /** dr_grpo's constant: max_completion_length. */
  maxCompletionLength: number;
  /** dapo's normaliser: completion tokens in the whole step (default: this batch's). */
  stepTokens?: number;
}

export interface GrpoLoss {
  /** The scalar loss (call backward on it). */
  loss: Tensor;
  /** Per-token KL [B, C] (zeros when beta = 0), and its masked mean. */
  perTokenKl: Tensor | null;
  klMean: number;
  /** Share of completion tokens whose ratio was clipped (low side with Â < 0, high side with Â > 0). */
  clipLow: number;
  clipHigh: number;
}

/** The GRPO loss of one (micro-)batch. */
export function grpoLoss(x: GrpoLossInput): GrpoLoss {
  const [B, C] = x.logps.shape as [number, number];
  const adv = Tensor.from(
    Array.from({ length: B }, (_, i) => x.advantages[i]!),
    [B, 1],
    'f32',
  );
  const old = x.oldLogps ?? T.noGrad(() => T.map(x.logps, (v) => v));
  const coef1 = T.exp(T.sub(x.logps, old));
  const coef2 = clamp(coef1, 1 - x.epsilonLow, 1 + x.epsilonHigh);
  let perToken = T.neg(minimum(T.mul(coef1, adv), T.mul(coef2, adv)));
  let perTokenKl: Tensor | null = null;
  if (x.beta !== 0) {
    if (!x.refLogps) throw new Error('beta > 0 needs the reference model log-probs');
    perTokenKl = k3Kl(x.logps, x.refLogps);
    perToken = T.add(perToken, T.mul(perTokenKl, x.beta));
  }
  const mask = new Tensor(x.mask, [B, C], 'f32');
  const masked = T.mul(perToken, mask);
  const tokens = x.mask.reduce((a, v) => a + v, 0);
  let loss: Tensor;
  switch (x.lossType) {
    case 'grpo': {
      const lengths = Tensor.from(
        Array.from({ length: B }, (_, i) =>
          Math.max(
            1,
            x.mask.subarray(i * C, (i + 1) * C).reduce((a, v) => a + v, 0),
          ),
        ),
        [B],
        'f32',
      );
      loss = T.mean(T.div(T.sum(masked, 1), lengths));
      break;
    }
    case 'bnpo':
      loss = T.div(T.sum(masked), Math.max(1, tokens));
      break;
    case 'dr_grpo':
      loss = T.div(T.sum(masked), B * x.maxCompletionLength);
      break;
    case 'dapo':
      loss = T.div(T.sum(masked), Math.max(1, x.stepTokens ?? tokens));
      break;
  }
  // Logged statistics (TRL's clip_ratio/low_mean and high_mean, and the mean KL).
  const r = T.floatData(coef1);
  let low = 0;
  let high = 0;
  for (let i = 0; i < B * C; i++) {
    if (x.mask[i] === 0) continue;
    const a = x.advantages[Math.floor(i / C)]!;
    if (r[i]! < 1 - x.epsilonLow && a < 0) low++;
    if (r[i]! > 1 + x.epsilonHigh && a > 0) high++;
  }
  let klMean = 0;
  if (perTokenKl) {
    const k = T.floatData(perTokenKl);
    let s = 0;
    for (let i = 0; i < B * C; i++) s += k[i]! * x.mask[i]!;
    klMean = s / Math.max(1, tokens);
  }
  const n = Math.max(1, tokens);
  return { loss, perTokenKl, klMean, clipLow: low / n, clipHigh: high / n };
}
