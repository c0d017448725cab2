/**
 * Soft-label distillation losses: the divergence between the teacher's and the student's next-token
 * distributions, both softened by a temperature T (Hinton et al. 2015), as one fused op per row
 * (forward and backward in a single pass over the vocabulary).
 *
 * With p_S = softmax(z_S / T), p_T = softmax(z_T / T) (or the teacher's stored top-k, teacher-cache.ts):
 *
 *   forward_kl   KL(p_T ‖ p_S) = Σ p_T (log p_T − log p_S)                 (Hinton; TRL GKD β = 0)
 *   reverse_kl   KL(p_S ‖ p_T) = Σ p_S (log p_S − log p_T)                 (MiniLLM; TRL GKD β = 1)
 *   jsd (β)      β·KL(p_T ‖ M) + (1 − β)·KL(p_S ‖ M),  M = β·p_T + (1 − β)·p_S
 *
 * exactly as TRL's `GKDTrainer.generalized_jsd_loss` (β = 0 and β = 1 are its forward and reverse
 * KL, not the limits of the mixture), averaged over positions (TRL's "batchmean" with labels).
 * `scaleT2` multiplies by T², which keeps the gradient's size independent of T (as T grows, the
 * gradient of KL at temperature T shrinks as 1/T²; Hinton §2.1).
 *
 * Gradients with respect to the student logits (z = z_S / T, h = log p_S − log M):
 *   forward_kl  (p_S − p_T) / T
 *   reverse_kl  p_S ⊙ (h − Σ p_S h) / T   with M = p_T
 *   jsd         (1 − β)·p_S ⊙ (h − Σ p_S h) / T
 * (the teacher gets none: it is a target).
 */
import { Tensor, record, isGradEnabled, floatData, allocFloat } from '../../tensor/index.ts';

export type Divergence = 'forward_kl' | 'reverse_kl' | 'jsd';

export interface SoftLabelOptions {
  divergence: Divergence;
  /** The JSD's β (the teacher's weight in the mixture); only for 'jsd'. β = 0 / 1 are forward / reverse KL. */
  beta: number;
  /** Softmax temperature of both distributions. */
  temperature: number;
  /** Multiply by T² (Hinton). */
  scaleT2: boolean;
}

/** The teacher's log-probabilities at the loss's temperature, row by row. */
export type TeacherTargets =
  /** Full teacher logits [..., V] (computed on the fly); softened by T here. */
  | { kind: 'logits'; logits: Tensor }
  /** Top-k log-probabilities already at temperature T, k per row; the rest of the mass spread evenly (teacher-cache.ts). */
  | { kind: 'topk'; k: number; indices: Int32Array; logprobs: Float32Array };

/** The smallest per-token probability given to the teacher's tail (keeps reverse KL finite when the top-k hold all the mass). */
export const TAIL_FLOOR = 1e-10;

/** log-softmax of x[off .. off+V) / T into out; returns nothing. */
export function logSoftmaxRow(x: ArrayLike<number>, off: number, V: number, T: number, out: Float64Array): void {
  let max = -Infinity;
  for (let j = 0; j < V; j++) max = Math.max(max, x[off + j]! / T);
  let s = 0;
  for (let j = 0; j < V; j++) s += Math.exp(x[off + j]! / T - max);
  const lse = max + Math.log(s);
  for (let j = 0; j < V; j++) out[j] = x[off + j]! / T - lse;
}

/** Fills `out` with the teacher distribution of a top-k row: the k stored log-probs, the tail's mass spread evenly. */
export function expandTopK(indices: Int32Array, logprobs: Float32Array, off: number, k: number, V: number, out: Float64Array): void {
  let mass = 0;
  for (let i = 0; i < k; i++) mass += Math.exp(logprobs[off + i]!);
  const tail = V > k ? Math.log(Math.max((1 - mass) / (V - k), TAIL_FLOOR)) : -Infinity;
  out.fill(tail);
  for (let i = 0; i < k; i++) out[indices[off + i]!] = logprobs[off + i]!;
}

/** log(exp(a) + exp(b)), stable. */
function logAddExp(a: number, b: number): number {
  if (a === -Infinity) return b;
  if (b === -Infinity) return a;
  const m = Math.max(a, b);
  return m + Math.log(Math.exp(a - m) + Math.exp(b - m));
}

/**
 * The divergence of one row given log p_S (ls) and log p_T (lt), both length V; writes d/dz of it
 * (z = student logits / T, not yet divided by T) into `grad` when given.
 */
export function rowDivergence(ls: Float64Array, lt: Float64Array, divergence: Divergence, beta: number, grad?: Float64Array): number {
  const V = ls.length;
  const kind = divergence === 'jsd' && beta === 0 ? 'forward_kl' : divergence === 'jsd' && beta === 1 ? 'reverse_kl' : divergence;
  if (kind === 'forward_kl') {
    let L = 0;
    for (let j = 0; j < V; j++) {
      const pt = Math.exp(lt[j]!);
      if (pt > 0) L += pt * (lt[j]! - ls[j]!);
      if (grad) grad[j] = Math.exp(ls[j]!) - pt;
    }
    return L;
  }
  // Reverse KL is the mixture form with M = p_T; the JSD mixes.
  const lb = Math.log(beta);
  const l1b = Math.log(1 - beta);
  let teacherTerm = 0;
  let studentTerm = 0;
  const h = grad ?? new Float64Array(V);
  for (let j = 0; j < V; j++) {
    const m = kind === 'reverse_kl' ? lt[j]! : logAddExp(ls[j]! + l1b, lt[j]! + lb);
    const ps = Math.exp(ls[j]!);
    h[j] = ls[j]! - m;
    studentTerm += ps * h[j]!;
    if (kind === 'jsd') {
      const pt = Math.exp(lt[j]!);
      if (pt > 0) teacherTerm += pt * (lt[j]! - m);
    }
  }
  if (grad) {
    const w = kind === 'jsd' ? 1 - beta : 1;
    for (let j = 0; j < V; j++) grad[j] = w * Math.exp(ls[j]!) * (h[j]! - studentTerm);
  }
  return kind === 'jsd' ? beta * teacherTerm + (1 - beta) * studentTerm : studentTerm;
}

/**
 * The soft-label loss of student logits [..., V] against the teacher, averaged over rows (and times
 * T² when `scaleT2`). Differentiable in the student logits.
 */
export function softLabelLoss(student: Tensor, teacher: TeacherTargets, o: SoftLabelOptions): Tensor {
  const V = student.shape[student.rank - 1]!;
  const rows = student.size / V;
  const T = o.temperature;
  if (!(T > 0)) throw new Error(`softLabelLoss: temperature must be positive, got ${T}`);
  if (o.divergence === 'jsd' && !(o.beta >= 0 && o.beta <= 1)) throw new Error(`softLabelLoss: β must be in [0, 1], got ${o.beta}`);
  const zs = floatData(student);
  let zt: ArrayLike<number> | null = null;
  if (teacher.kind === 'logits') {
    if (teacher.logits.size !== student.size)
      throw new Error(`softLabelLoss: teacher logits [${teacher.logits.shape}] vs student [${student.shape}]`);
    zt = floatData(teacher.logits);
  } else if (teacher.indices.length !== rows * teacher.k || teacher.logprobs.length !== rows * teacher.k) {
    throw new Error(`softLabelLoss: ${rows} rows need ${rows * teacher.k} top-k entries, got ${teacher.indices.length}`);
  }
  const scale = o.scaleT2 ? T * T : 1;
  const want = student.requiresGrad && isGradEnabled();
  const dtype = student.dtype === 'f64' ? 'f64' : 'f32';
  const dz = want ? allocFloat(dtype, rows * V) : null;
  const ls = new Float64Array(V);
  const lt = new Float64Array(V);
  const g = want ? new Float64Array(V) : undefined;
  let total = 0;
  for (let r = 0; r < rows; r++) {
    logSoftmaxRow(zs, r * V, V, T, ls);
    if (zt) logSoftmaxRow(zt, r * V, V, T, lt);
    else if (teacher.kind === 'topk') expandTopK(teacher.indices, teacher.logprobs, r * teacher.k, teacher.k, V, lt);
    total += rowDivergence(ls, lt, o.divergence, o.beta, g);
    if (dz && g) {
      const c = scale / T / rows;
      for (let j = 0; j < V; j++) dz[r * V + j] = g[j]! * c;
    }
  }
  const out = Tensor.from([(scale * total) / rows], [], dtype);
  return record(out, 'softLabelLoss', [student], (gOut) => {
    const s = gOut.item();
    const d = allocFloat(dtype, rows * V);
    for (let i = 0; i < d.length; i++) d[i] = dz![i]! * s;
    return [new Tensor(d, student.shape, dtype)];
  });
}
