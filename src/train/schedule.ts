/**
 * Learning-rate schedules, as pure functions of the step index, so a resumed run recomputes exactly
 * the rate the uninterrupted one used (the checkpoint needs only the step).
 *
 * - `cosine`: linear warmup to the peak, then half a cosine down to `minLrRatio`·peak at the last step.
 * - `wsd` (warmup–stable–decay, as in MiniCPM and DeepSeek-V3's long constant phase): warmup, a
 *   constant peak, then a final decay over `decayFraction` of the run to `minLrRatio`·peak.
 * - `constant`: warmup, then the peak.
 */

export type DecayShape = 'linear' | 'cosine' | 'sqrt';

export type ScheduleConfig =
  | { kind: 'cosine'; warmup: number; minLrRatio: number }
  | { kind: 'wsd'; warmup: number; minLrRatio: number; decayFraction: number; decayShape: DecayShape }
  | { kind: 'constant'; warmup: number };

/**
 * The learning rate of step `step` (0-based: the `step`-th optimizer update) out of `total`, for
 * peak rate `peak`. Warmup ramps linearly so the first update already moves (peak/warmup), as
 * PyTorch's LambdaLR warmups do.
 */
export function learningRate(s: ScheduleConfig, peak: number, step: number, total: number): number {
  if (step < s.warmup) return (peak * (step + 1)) / s.warmup;
  if (s.kind === 'constant') return peak;
  const floor = peak * s.minLrRatio;
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
