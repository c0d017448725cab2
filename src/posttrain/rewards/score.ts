/**
 * Scoring completions with a run's reward functions, as TRL does: each function scores every
 * completion (null: no opinion, kept as NaN), and the total is the weighted sum over the functions
 * that gave a score. A function that throws or returns something other than a finite number or null
 * stops the run with an error naming the function (its module) and the example — a silent 0 would
 * quietly train on a broken reward.
 */
import { PosttrainError } from '../errors.ts';
import type { Reward, RewardContext } from './types.ts';

export interface ScoredBatch {
  /** Per function (in run order), per completion; NaN where the function returned null. */
  perFunction: Float64Array[];
  /** Weighted sum per completion (NaN terms skipped). */
  total: Float64Array;
}

/** Where a reward came from, for messages: its module path for user functions, else its name. */
function origin(r: Reward): string {
  return r.source ? `reward '${r.name}' (${r.source})` : `reward '${r.name}'`;
}

/** A short label of an example: its `id` when it has one, else its line number. */
export function exampleLabel(example: Record<string, unknown>, index: number): string {
  const id = example.id;
  return typeof id === 'string' || typeof id === 'number'
    ? `example ${JSON.stringify(id)} (line ${index + 1})`
    : `example at line ${index + 1}`;
}

/** Scores `items` (each with its example's line index for messages). */
export async function scoreCompletions(
  rewards: readonly Reward[],
  items: readonly (RewardContext & { line: number })[],
): Promise<ScoredBatch> {
  const perFunction = rewards.map(() => new Float64Array(items.length));
  const total = new Float64Array(items.length);
  for (let i = 0; i < items.length; i++) {
    const ctx = items[i]!;
    for (let f = 0; f < rewards.length; f++) {
      const r = rewards[f]!;
      let v: number | null;
      try {
        v = await r.score(ctx);
      } catch (e) {
        throw new PosttrainError(`${origin(r)} threw on ${exampleLabel(ctx.example, ctx.line)}: ${(e as Error)?.message ?? String(e)}`, {
          cause: e,
        });
      }
      if (v === null || v === undefined) {
        perFunction[f]![i] = NaN;
        continue;
      }
      if (typeof v !== 'number' || !Number.isFinite(v)) {
        throw new PosttrainError(
          `${origin(r)} returned ${JSON.stringify(v) ?? String(v)} on ${exampleLabel(ctx.example, ctx.line)} (expected a finite number or null)`,
        );
      }
      perFunction[f]![i] = v;
      total[i]! += r.weight * v;
    }
  }
  return { perFunction, total };
}
