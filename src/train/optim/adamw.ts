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
 *
 * The moments are stored in f32, or in bf16 (`moments: 'bf16'`, DeepSeek-V3 §3.3.3), which halves
 * their memory: each update decodes them, computes in f32 (JS doubles, stored through f32), and
 * rounds them back to bf16 to nearest, ties to even. Deterministic rounding keeps a resumed run
 * exact: the stored bits are the whole state.
 */
import { floatData } from '../../tensor/index.ts';
import { decodeBf16, encodeBf16 } from '../../tensor/codecs.ts';
import type { FloatStorage } from '../../tensor/dtype.ts';
import type { Param } from './params.ts';

export const MOMENT_DTYPES = ['f32', 'bf16'] as const;
export type MomentDtype = (typeof MOMENT_DTYPES)[number];

/** A moment as stored: f32 values, or bf16 bits. */
export type Moment = Float32Array | Uint16Array;

export interface AdamWOptions {
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  /** Storage of the first and second moments. */
  moments: MomentDtype;
}

export const ADAMW_DEFAULTS: AdamWOptions = { beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1, moments: 'f32' };

/** Elements of bf16 moments decoded at a time (the f32 scratch this costs is 2 × 16 KiB). */
const CHUNK = 4096;

/** What the optimizer must save for a resumed run to continue bit for bit. */
export interface AdamWState {
  /** Per-parameter step counts, in `params` order. */
  steps: Int32Array;
  /** First and second moments by parameter name, in the optimizer's moment dtype (bf16 as bits). */
  m: Map<string, Moment>;
  v: Map<string, Moment>;
}

export class AdamW {
  readonly params: readonly Param[];
  readonly options: AdamWOptions;
  private readonly m: Moment[];
  private readonly v: Moment[];
  private readonly steps: Int32Array;
  /** f32 views of one chunk of bf16 moments while they are updated. */
  private readonly scratch: { m: Float32Array; v: Float32Array } | null;

  constructor(params: readonly Param[], options: Partial<AdamWOptions> = {}) {
    this.params = params;
    this.options = { ...ADAMW_DEFAULTS, ...options };
    const bf16 = this.options.moments === 'bf16';
    const moment = (n: number): Moment => (bf16 ? new Uint16Array(n) : new Float32Array(n)); // bf16 0x0000 is +0
    this.m = params.map((p) => moment(p.tensor.size));
    this.v = params.map((p) => moment(p.tensor.size));
    this.steps = new Int32Array(params.length);
    this.scratch = bf16 ? { m: new Float32Array(CHUNK), v: new Float32Array(CHUNK) } : null;
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
      const u: Update = {
        keep: p.decay ? 1 - lr * weightDecay : 1,
        stepSize: lr / (1 - beta1 ** t),
        invBc2Sqrt: 1 / Math.sqrt(1 - beta2 ** t),
        beta1,
        beta2,
        eps,
        gradScale,
      };
      if (m instanceof Float32Array && v instanceof Float32Array) {
        update(w, g, m, v, u);
        continue;
      }
      const s = this.scratch!;
      for (let lo = 0; lo < w.length; lo += CHUNK) {
        const hi = Math.min(w.length, lo + CHUNK);
        const [mb, vb] = [m.subarray(lo, hi) as Uint16Array, v.subarray(lo, hi) as Uint16Array];
        const [ms, vs] = [s.m.subarray(0, hi - lo), s.v.subarray(0, hi - lo)];
        decodeBf16(mb, ms);
        decodeBf16(vb, vs);
        update(w.subarray(lo, hi), g.subarray(lo, hi), ms, vs, u);
        encodeBf16(ms, mb);
        encodeBf16(vs, vb);
      }
    }
  }

  /** Drops every parameter's gradient (after a step, before the next accumulation). */
  zeroGrad(): void {
    for (const p of this.params) p.tensor.grad = null;
  }

  /** The moments and step counts (live arrays: copy before mutating). */
  state(): AdamWState {
    const m = new Map<string, Moment>();
    const v = new Map<string, Moment>();
    this.params.forEach((p, i) => {
      m.set(p.name, this.m[i]!);
      v.set(p.name, this.v[i]!);
    });
    return { steps: this.steps, m, v };
  }

  /**
   * Restores a saved state; every parameter must be present with its size. Moments saved in the
   * other dtype are converted (f32 → bf16 rounds to nearest even; bf16 → f32 is exact).
   */
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
      setMoment(this.m[i]!, m);
      setMoment(this.v[i]!, v);
    });
    this.steps.set(state.steps);
  }
}

interface Update {
  keep: number;
  stepSize: number;
  invBc2Sqrt: number;
  beta1: number;
  beta2: number;
  eps: number;
  gradScale: number;
}

/** The AdamW update of one parameter's elements (or one chunk of them) with f32 moments. */
function update(w: Float32Array, g: FloatStorage, m: Float32Array, v: Float32Array, u: Update): void {
  const { keep, stepSize, invBc2Sqrt, beta1, beta2, eps, gradScale } = u;
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

/** Copies `from` into the stored moment `to`, converting between f32 values and bf16 bits. */
function setMoment(to: Moment, from: Moment): void {
  if (to instanceof Float32Array) {
    if (from instanceof Float32Array) to.set(from);
    else decodeBf16(from, to);
  } else if (from instanceof Float32Array) encodeBf16(from, to);
  else to.set(from);
}
