/**
 * Training recipes: `"recipe": "deepseek-v3"` in run.json makes DeepSeek-V3's choices (report §4.2,
 * §2.1.2) the defaults of every key below; a key given explicitly still wins. `"custom"` (the
 * default) keeps this project's plain defaults. What the V3 recipe still does differently from the
 * report is listed in docs/training.md.
 */
import type { ObjectReader } from './reader.ts';
import { V3_SCHEDULE, type Staged } from '../schedule.ts';

export const RECIPES = ['custom', 'deepseek-v3'] as const;
export type Recipe = (typeof RECIPES)[number];

/** The report's 14.8T tokens, and where its stages change (in tokens). */
const V3_TOKENS = 14.8e12;
/** λ = 0.3 for the first 10T tokens, then 0.1. */
export const V3_MTP_WEIGHT: Staged = [
  { from: 0, value: 0.3 },
  { from: 10e12 / V3_TOKENS, value: 0.1 },
];
/** γ = 0.001 for the first 14.3T tokens, then 0. */
export const V3_BIAS_GAMMA: Staged = [
  { from: 0, value: 0.001 },
  { from: 14.3e12 / V3_TOKENS, value: 0 },
];
/** Batch size 3072 → 15360 sequences over the first 469B tokens. */
export const V3_BATCH_RAMP = { startRatio: 3072 / 15360, fraction: 469e9 / V3_TOKENS };
/** The report's initialisation: every matrix ~ Normal(0, 0.006). */
export const V3_INIT_STD = 0.006;

/** Gradient accumulation ramps from `startAccum` micro-batches per step to the full count over `steps` steps. */
export interface BatchRamp {
  startAccum: number;
  steps: number;
}

/** Micro-batches of step `step` (0-based) under `ramp`, reaching `gradAccum` at `ramp.steps`. */
export function accumAt(ramp: BatchRamp | null, gradAccum: number, step: number): number {
  if (!ramp || step >= ramp.steps) return gradAccum;
  return Math.max(1, Math.floor(ramp.startAccum + ((gradAccum - ramp.startAccum) * step) / ramp.steps));
}

/** `key` as a number ≥ 0 or a list of stages {from, value} (from: fraction of the run, rising from 0). */
export function readStaged(r: ObjectReader, key: string, fallback: Staged): Staged {
  const v = r.raw(key);
  if (v === undefined || v === null) return fallback;
  if (typeof v === 'number' && Number.isFinite(v) && v >= 0) return v;
  const bad = () =>
    r.fail(key, `must be a number ≥ 0 or a list of stages [{"from": 0, "value": …}, {"from": 0.7, "value": …}], got ${JSON.stringify(v)}`);
  if (!Array.isArray(v) || v.length === 0) bad();
  const stages = (v as unknown[]).map((s) => {
    if (typeof s !== 'object' || s === null) return bad();
    const { from, value, ...rest } = s as Record<string, unknown>;
    if (Object.keys(rest).length > 0 || typeof from !== 'number' || typeof value !== 'number' || from < 0 || from >= 1 || value < 0)
      return bad();
    return { from, value };
  });
  if (stages[0]!.from !== 0 || stages.some((s, i) => i > 0 && s.from <= stages[i - 1]!.from)) bad();
  return stages;
}

/** `batchRamp`: {startAccum, steps}, or null/absent for none (V3 recipe: the report's ramp, scaled to the run). */
export function readBatchRamp(r: ObjectReader, recipe: Recipe, gradAccum: number, steps: number): BatchRamp | null {
  if (r.raw('batchRamp') === null) return null;
  if (!r.has('batchRamp')) {
    if (recipe !== 'deepseek-v3') return null;
    return {
      startAccum: Math.max(1, Math.round(gradAccum * V3_BATCH_RAMP.startRatio)),
      steps: Math.max(1, Math.round(steps * V3_BATCH_RAMP.fraction)),
    };
  }
  const b = r.object('batchRamp');
  const ramp = { startAccum: b.int('startAccum', 1, 1), steps: b.int('steps', 0) };
  b.done();
  if (ramp.startAccum > gradAccum) b.fail('startAccum', `must not exceed gradAccum (${gradAccum})`);
  return ramp;
}
