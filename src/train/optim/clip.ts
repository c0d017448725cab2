/**
 * Global-norm gradient clipping (Pascanu et al. 2013), as `torch.nn.utils.clip_grad_norm_`: the L2
 * norm over every parameter's gradient together; when it exceeds `maxNorm`, all gradients are scaled
 * by maxNorm / (norm + 1e-6). Here the scale is returned rather than applied, so the optimizer folds
 * it into its own pass instead of rewriting every gradient once more.
 */
import { floatData } from '../../tensor/index.ts';
import type { Param } from './params.ts';

/** L2 norm of all gradients of `params` times `gradScale` (missing gradients count as zero). */
export function gradNorm(params: readonly Param[], gradScale = 1): number {
  let sq = 0;
  for (const p of params) {
    if (!p.tensor.grad) continue;
    const g = floatData(p.tensor.grad);
    let s = 0;
    for (let j = 0; j < g.length; j++) s += g[j]! * g[j]!;
    sq += s;
  }
  return Math.sqrt(sq) * Math.abs(gradScale);
}

/** The factor that brings a gradient of norm `norm` down to `maxNorm` (1 when within, or no clipping). */
export function clipScale(norm: number, maxNorm: number): number {
  if (!(maxNorm > 0) || norm <= maxNorm) return 1;
  return maxNorm / (norm + 1e-6);
}
