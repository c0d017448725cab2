/**
 * The comparison the FP8 measurement reports (DeepSeek-V3 §3.3, Figure 7: FP8 against BF16 over a
 * whole run): each run's final held-out CE and its relative gap to the BF16 run, and the noise floor
 * that gap must be read against — the relative difference between two f32 runs that differ only in
 * their seed (initialisation and data order).
 */

export interface RunOutcome {
  name: string;
  /** Held-out cross-entropy at the end of the schedule. */
  valCe: number;
  /** Mean training cross-entropy over the last tenth of the steps. */
  trainCe: number;
}

export interface Gaps {
  baseline: string;
  /** (CE − CE_baseline) / CE_baseline of each run's final held-out CE. */
  valGap: Record<string, number>;
  /** The same for the training CE of the last tenth of the run. */
  trainGap: Record<string, number>;
  /** |CE_a − CE_b| / mean of the two seed runs (held-out CE): the noise floor. */
  seedBand: number;
  /** Whether each run's held-out gap to the baseline is no larger than the seed band. */
  withinSeedBand: Record<string, boolean>;
}

const rel = (x: number, base: number) => (x - base) / base;

/** Gaps of every run to `baseline`, and the band between the two `seeds` runs. */
export function precisionGaps(runs: readonly RunOutcome[], baseline: string, seeds: [string, string]): Gaps {
  const byName = new Map(runs.map((r) => [r.name, r]));
  const get = (name: string) => {
    const r = byName.get(name);
    if (!r) throw new Error(`no run named '${name}'`);
    return r;
  };
  const base = get(baseline);
  const [a, b] = [get(seeds[0]), get(seeds[1])];
  const seedBand = Math.abs(a.valCe - b.valCe) / ((a.valCe + b.valCe) / 2);
  const out: Gaps = { baseline, valGap: {}, trainGap: {}, seedBand, withinSeedBand: {} };
  for (const r of runs) {
    out.valGap[r.name] = rel(r.valCe, base.valCe);
    out.trainGap[r.name] = rel(r.trainCe, base.trainCe);
    out.withinSeedBand[r.name] = Math.abs(out.valGap[r.name]!) <= seedBand;
  }
  return out;
}
