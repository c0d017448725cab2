/**
 * The hook for constrained decoding: a `TokenConstraint` restricts which tokens a sequence may
 * produce next (a JSON grammar, tool-call syntax, a thinking budget — the serve layer's constrain/
 * implements them). `chooseToken` is where the sampler's pick and the constraint meet, so every
 * sequence of the one decoding loop goes through the same choice.
 */
import { argmax } from './logits-processors.ts';
import type { Sampler, TokenHistory } from './sampler.ts';

export interface TokenConstraint {
  /** Finished: the output is complete. */
  readonly done: boolean;
  /** Whether the current step may need a mask (false: sample freely). */
  readonly filters: boolean;
  /** The only token allowed now, if any; `budget` counts the tokens left, this one included. */
  forced(budget: number): number | null;
  allows(id: number, budget: number): boolean;
  accept(id: number): void;
  /** Fewest tokens that can still complete it: a smaller budget cannot end in a complete structure. */
  minTokens(): number;
}

/**
 * The sampler's pick within the constraint: a forced token first, else a sample, masking only when
 * the free pick is not allowed (a full mask costs V calls to `allows`). null when the constraint
 * allows no token at all (its structure no longer fits the budget).
 */
export function chooseToken(
  sampler: Sampler,
  logits: Float32Array,
  history: TokenHistory,
  c: TokenConstraint | undefined,
  budget: number,
): number | null {
  if (!c || c.done) return sampler.sample(logits, history);
  const forced = c.forced(budget);
  if (forced !== null) return forced;
  const first = sampler.sample(logits, history);
  if (!c.filters || c.allows(first, budget)) return first;
  const masked = logits.slice();
  let any = false;
  for (let id = 0; id < masked.length; id++) {
    if (c.allows(id, budget)) any = true;
    else masked[id] = -Infinity;
  }
  if (!any) return null;
  const t = sampler.sample(masked, history);
  // Filters such as top-k can mask every allowed token: fall back to the most likely allowed one.
  return c.allows(t, budget) ? t : argmax(masked);
}
