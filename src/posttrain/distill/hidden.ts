/**
 * Hidden-state distillation (DistilBERT's cosine loss, TinyBERT's MSE through a learned projection):
 * chosen teacher hidden states are matched by chosen student hidden states, position by position.
 *
 * Layers are numbered as transformers' `hidden_states`: 0 is the embedding output, i the output of
 * block i, and the last (= num_hidden_layers) the final normed state. Where the widths differ the
 * student's state goes through a learned linear map W [d_teacher, d_student] first (TinyBERT's W_h),
 * trained with the student and kept in the trainer state; where they agree it is compared as is.
 *
 *   mse     mean over positions and teacher dimensions of (W·h_S − h_T)²
 *   cosine  mean over positions of 1 − cos(W·h_S, h_T)
 *
 * Pairs are averaged, so the weight of the term does not grow with the number of pairs.
 */
import * as T from '../../tensor/index.ts';
import { Tensor, Rng } from '../../tensor/index.ts';
import type { Param } from '../../train/optim/params.ts';

export type HiddenLoss = 'mse' | 'cosine';

export interface HiddenConfig {
  /** [teacher layer, student layer] pairs (hidden_states indices). */
  pairs: [number, number][];
  loss: HiddenLoss;
  /** The term's weight in the total. */
  weight: number;
}

/** MSE between a and b [..., d]: mean of the squared differences. */
export function hiddenMse(a: Tensor, b: Tensor): Tensor {
  return T.mean(T.square(T.sub(a, b)));
}

/** Mean over rows of 1 − cos(a, b), rows of the last axis. */
export function hiddenCosine(a: Tensor, b: Tensor, eps = 1e-8): Tensor {
  const dot = T.sum(T.mul(a, b), -1);
  const na = T.sum(T.square(a), -1);
  const nb = T.sum(T.square(b), -1);
  const cos = T.div(dot, T.sqrt(T.add(T.mul(na, nb), eps)));
  return T.sub(1, T.mean(cos));
}

export class HiddenMatcher {
  /** The projections (one per pair whose widths differ), named distill.hidden.<i>.weight. */
  readonly params: Param[] = [];
  private readonly proj: (Tensor | null)[];

  constructor(
    readonly cfg: HiddenConfig,
    studentWidth: number,
    teacherWidth: number,
    seed: number,
  ) {
    const rng = new Rng(seed ^ 0x4d15);
    this.proj = cfg.pairs.map((_, i) => {
      if (studentWidth === teacherWidth) return null;
      // Fan-in init, so W·h_S starts at h_S's scale.
      const w = Tensor.randn([teacherWidth, studentWidth], rng, 1 / Math.sqrt(studentWidth), 'f32').requireGrad();
      this.params.push({ name: `distill.hidden.${i}.weight`, tensor: w, decay: true });
      return w;
    });
  }

  /** The loss over every pair, from the student's and the teacher's hidden_states. */
  loss(student: readonly Tensor[], teacher: readonly Tensor[]): Tensor {
    const terms = this.cfg.pairs.map(([t, s], i) => {
      const hs = student[s];
      const ht = teacher[t];
      if (!hs || !ht) throw new Error(`hidden pair ${i}: no hidden state ${!hs ? `${s} in the student` : `${t} in the teacher`}`);
      const w = this.proj[i];
      const mapped = w ? T.linear(hs, w) : hs;
      return this.cfg.loss === 'mse' ? hiddenMse(mapped, ht.detach()) : hiddenCosine(mapped, ht.detach());
    });
    const sum = terms.reduce((a, b) => T.add(a, b));
    return T.mul(sum, 1 / terms.length);
  }
}
