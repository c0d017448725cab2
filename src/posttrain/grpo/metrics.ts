/**
 * What a GRPO step logs (metrics.jsonl records of `type: "grpo"`), TRL's per-step metrics under
 * this project's names: rewards, accuracy, completion lengths, KL, clip fractions, entropy, speed.
 */

/** What one GRPO step logs. */
export interface GrpoMetrics {
  type: 'grpo';
  step: number;
  loss: number;
  lr: number;
  gradNorm: number;
  reward: number;
  rewardStd: number;
  /** Mean and std of each reward function (NaN scores — "no opinion" — left out). */
  rewards: Record<string, { mean: number; std: number }>;
  /** Mean of the 'accuracy' reward, when the run has one. */
  accuracy?: number;
  completionLength: { mean: number; min: number; max: number };
  /** Share of completions cut by max_completion_length. */
  truncated: number;
  /** Share of groups whose rewards were all equal (no learning signal). */
  zeroStdGroups: number;
  kl: number;
  clip: { low: number; high: number; region: number };
  entropy: number;
  rolloutTokensPerSec: number;
  trainTokensPerSec: number;
  /** Completion tokens trained so far. */
  tokens: number;
  elapsed: number;
  epoch: number;
}

/** Mean and unbiased std of the finite values (NaN: a reward's "no opinion"). */
export function meanStd(xs: number[]): { mean: number; std: number } {
  const v = xs.filter((x) => Number.isFinite(x));
  if (v.length === 0) return { mean: NaN, std: NaN };
  const mean = v.reduce((a, b) => a + b, 0) / v.length;
  const std = v.length < 2 ? 0 : Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / (v.length - 1));
  return { mean, std };
}
