/**
 * AdamW (Loshchilov & Hutter, "Decoupled Weight Decay Regularization"): Adam's update plus a weight
 * decay applied to the weights directly rather than through the gradient, so the decay is not
 * rescaled by Adam's per-element step size. The arithmetic follows PyTorch's `torch.optim.AdamW`:
 *
 *   p ← p·(1 − lr·wd)                          (decay parameters only)
 *   m ← β1·m + (1 − β1)·g,   v ← β2·v + (1 − β2)·g²
 *   p ← p − lr/(1 − β1ᵗ) · m / (√v/√(1 − β2ᵗ) + ε)
 *
 * with a step count t per parameter: like PyTorch, a parameter that got no gradient this step (an
 * expert no token was routed to) is skipped entirely — no decay, no moment decay, t unchanged.
 * A gradient scale (global-norm clipping, micro-batch averaging) is folded into the same pass.
 */
import { floatData } from '../../tensor/index.ts';
import type { Param } from './params.ts';

export interface AdamWOptions {
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
}

export const ADAMW_DEFAULTS: AdamWOptions = { beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1 };

/** What the optimizer must save for a resumed run to continue bit for bit. */
export interface AdamWState {
  /** Per-parameter step counts, in `params` order. */
  steps: Int32Array;
  /** First and second moments by parameter name. */
  m: Map<string, Float32Array>;
  v: Map<string, Float32Array>;
}

export class AdamW {
  readonly params: readonly Param[];
  readonly options: AdamWOptions;
  private readonly m: Float32Array[];
  private readonly v: Float32Array[];
  private readonly steps: Int32Array;

  constructor(params: readonly Param[], options: Partial<AdamWOptions> = {}) {
    this.params = params;
    this.options = { ...ADAMW_DEFAULTS, ...options };
    this.m = params.map((p) => new Float32Array(p.tensor.size));
    this.v = params.map((p) => new Float32Array(p.tensor.size));
    this.steps = new Int32Array(params.length);
  }

  /**
   * One update at learning rate `lr`, reading each parameter's accumulated `.grad` times
   * `gradScale`. Parameters whose `.grad` is null are left as they are.
   */
  step(lr: number, gradScale = 1): void {
    const { beta1, beta2, eps, weightDecay } = this.options;
    for (let i = 0; i < this.params.length; i++) {
      const p = this.params[i]!;
      const grad = p.tensor.grad;
      if (!grad) continue;
      const t = ++this.steps[i]!;
      const w = p.tensor.data as Float32Array;
      const g = floatData(grad);
      const m = this.m[i]!;
      const v = this.v[i]!;
      const keep = p.decay ? 1 - lr * weightDecay : 1;
      const stepSize = lr / (1 - beta1 ** t);
      const invBc2Sqrt = 1 / Math.sqrt(1 - beta2 ** t);
      const a1 = 1 - beta1;
      const a2 = 1 - beta2;
      for (let j = 0; j < w.length; j++) {
        const gj = g[j]! * gradScale;
        const mj = beta1 * m[j]! + a1 * gj;
        const vj = beta2 * v[j]! + a2 * gj * gj;
        m[j] = mj;
        v[j] = vj;
        w[j] = w[j]! * keep - (stepSize * mj) / (Math.sqrt(vj) * invBc2Sqrt + eps);
      }
    }
  }

  /** Drops every parameter's gradient (after a step, before the next accumulation). */
  zeroGrad(): void {
    for (const p of this.params) p.tensor.grad = null;
  }

  /** The moments and step counts (live arrays: copy before mutating). */
  state(): AdamWState {
    const m = new Map<string, Float32Array>();
    const v = new Map<string, Float32Array>();
    this.params.forEach((p, i) => {
      m.set(p.name, this.m[i]!);
      v.set(p.name, this.v[i]!);
    });
    return { steps: this.steps, m, v };
  }

  /** Restores a saved state; every parameter must be present with its size. */
  load(state: AdamWState): void {
    if (state.steps.length !== this.params.length) {
      throw new Error(`optimizer state holds ${state.steps.length} parameters, the model has ${this.params.length}`);
    }
    this.params.forEach((p, i) => {
      const m = state.m.get(p.name);
      const v = state.v.get(p.name);
      if (!m || !v || m.length !== p.tensor.size || v.length !== p.tensor.size) {
        throw new Error(`optimizer state has no moments of the right size for '${p.name}'`);
      }
      this.m[i]!.set(m);
      this.v[i]!.set(v);
    });
    this.steps.set(state.steps);
  }
}
