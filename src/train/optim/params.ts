/**
 * The trainable parameters of a model: every weight leaf that requires grad, under its HF name, and
 * whether weight decay applies to it. Decay shrinks matrices (embeddings, projections, experts);
 * norms, biases and any other 1-D parameter are left alone, as in GPT-style training — decaying an
 * RMSNorm gain toward 0 would only fight the normalisation.
 */
import type { Tensor } from '../../tensor/index.ts';
import type { Weights } from '../../model/weights.ts';

export interface Param {
  readonly name: string;
  readonly tensor: Tensor;
  /** Whether decoupled weight decay applies. */
  readonly decay: boolean;
}

/** Whether a parameter named `name` with this rank gets weight decay. */
export function decays(name: string, rank: number): boolean {
  if (rank < 2) return false;
  return !name.endsWith('.bias') && !/norm\.weight$/.test(name);
}

/**
 * The parameters of `weights` that require grad, in name order (a stable order for the optimizer
 * state). A tensor reachable under two names (tied head) appears once. Each must be a contiguous f32
 * leaf owning its storage, because the optimizer updates `.data` in place.
 */
export function trainableParams(weights: Weights): Param[] {
  const seen = new Set<Tensor>();
  const out: Param[] = [];
  for (const name of [...weights.names()].sort()) {
    const t = weights.get(name);
    if (!t.requiresGrad || seen.has(t)) continue;
    seen.add(t);
    if (t.dtype !== 'f32' || !t.isContiguous() || t.offset !== 0 || t.data.length !== t.size) {
      throw new Error(`parameter '${name}' must be a contiguous f32 leaf to be trained, got ${t}`);
    }
    out.push({ name, tensor: t, decay: decays(name, t.rank) });
  }
  return out;
}
