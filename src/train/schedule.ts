/**
 * Learning-rate schedules, as pure functions of the step index, so a resumed run recomputes exactly
 * the rate the uninterrupted one used (the checkpoint needs only the step).
 *
 * - `cosine`: linear warmup to the peak, then half a cosine down to `minLrRatio`·peak at the last step.
 * - `wsd` (warmup–stable–decay, as in MiniCPM and DeepSeek-V3's long constant phase): warmup, a
 *   constant peak, then a final decay over `decayFraction` of the run to `minLrRatio`·peak.
 * - `constant`: warmup, then the peak.
 * - `deepseek-v3` (DeepSeek-V3 §4.2): warmup, the peak until `decayStart` of the run, a cosine decay
 *   to `minLrRatio`·peak by `decayEnd`, then two final constant stages: `minLrRatio`·peak, and from
 *   `finalStart` `finalRatio`·peak. The report's token counts as fractions of its 14.8T tokens: peak
 *   2.2e-4 until 10T, cosine to 2.2e-5 over 4.3T, 2.2e-5 for 333B, 7.3e-6 for the last 167B.
 *
 * Other per-step hyper-parameters (the MTP weight λ, the bias speed γ) may be `Staged`: a value, or
 * piecewise-constant stages by fraction of the run.
 */

export type DecayShape = 'linear' | 'cosine' | 'sqrt';

export type ScheduleConfig =
  | { kind: 'cosine'; warmup: number; minLrRatio: number }
  | { kind: 'wsd'; warmup: number; minLrRatio: number; decayFraction: number; decayShape: DecayShape }
  | { kind: 'constant'; warmup: number }
  | {
      kind: 'deepseek-v3';
      warmup: number;
      minLrRatio: number;
      decayStart: number;
      decayEnd: number;
      finalStart: number;
      finalRatio: number;
    };

/** DeepSeek-V3's schedule shape (§4.2) as fractions of its 14.8T training tokens. */
export const V3_SCHEDULE = {
  decayStart: 10 / 14.8,
  decayEnd: 14.3 / 14.8,
  minLrRatio: 2.2e-5 / 2.2e-4,
  finalStart: (14.8 - 0.167) / 14.8,
  finalRatio: 7.3e-6 / 2.2e-4,
} as const;

/** A hyper-parameter that is constant, or piecewise constant: stage i holds from fraction `from` of the run. */
export type Staged = number | readonly { from: number; value: number }[];

/** The value of `s` at step `step` (0-based) of `total`. */
export function stagedValue(s: Staged, step: number, total: number): number {
  if (typeof s === 'number') return s;
  const at = step / total;
  let v = s[0]!.value;
  for (const stage of s) if (at >= stage.from) v = stage.value;
  return v;
}

/**
 * The learning rate of step `step` (0-based: the `step`-th optimizer update) out of `total`, for
 * peak rate `peak`. Warmup ramps linearly so the first update already moves (peak/warmup), as
 * PyTorch's LambdaLR warmups do.
 */
export function learningRate(s: ScheduleConfig, peak: number, step: number, total: number): number {
  if (step < s.warmup) return (peak * (step + 1)) / s.warmup;
  if (s.kind === 'constant') return peak;
  const floor = peak * s.minLrRatio;
  if (s.kind === 'deepseek-v3') {
    const at = step / total;
    if (at < s.decayStart) return peak;
    if (at < s.decayEnd) return floor + (peak - floor) * decayFactor('cosine', (at - s.decayStart) / (s.decayEnd - s.decayStart));
    return at < s.finalStart ? floor : peak * s.finalRatio;
  }
  if (s.kind === 'cosine') {
    const span = Math.max(1, total - s.warmup - 1);
    const progress = Math.min(1, (step - s.warmup) / span);
    return floor + (peak - floor) * 0.5 * (1 + Math.cos(Math.PI * progress));
  }
  const decaySteps = Math.max(1, Math.round(total * s.decayFraction));
  const decayStart = Math.max(s.warmup, total - decaySteps);
  if (step < decayStart) return peak;
  const progress = Math.min(1, (step - decayStart + 1) / Math.max(1, total - decayStart));
  return floor + (peak - floor) * decayFactor(s.decayShape, progress);
}

/** 1 at progress 0, 0 at progress 1. */
function decayFactor(shape: DecayShape, p: number): number {
  switch (shape) {
    case 'linear':
      return 1 - p;
    case 'cosine':
      return 0.5 * (1 + Math.cos(Math.PI * p));
    case 'sqrt':
      return 1 - Math.sqrt(p);
  }
}
