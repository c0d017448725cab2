/**
 * The distillation objective, plugged into the pre-training loop in place of lmObjective:
 *
 *   L = (1 − α)·L_student + α·L_soft + w_h·L_hidden + w_a·L_attn
 *
 * L_student is the student's own objective on the data (next-token CE, plus MTP and balance terms
 * when it has them: lmObjective), L_soft the divergence from the teacher's soft labels at
 * temperature T (losses.ts; from the teacher on the fly or from its stored top-k,
 * teacher-cache.ts), L_hidden the hidden-state match (hidden.ts), L_attn the attention match
 * (attention.ts). The teacher runs without gradients on the same inputs.
 */
import * as T from '../../tensor/index.ts';
import type { Tensor } from '../../tensor/index.ts';
import type { CausalLM, ForwardResult } from '../../model/causal-lm.ts';
import { lmObjective, type ObjectiveConfig, type ObjectiveResult, type TrainObjective } from '../../train/objective.ts';
import type { Param } from '../../train/optim/params.ts';
import type { JsonObject } from '../../train/config/reader.ts';
import type { DistillSection } from './config.ts';
import type { HiddenMatcher } from './hidden.ts';
import { captureAttention, type AttentionCall, type AttentionMatcher } from './attention.ts';
import { softLabelLoss, type TeacherTargets } from './losses.ts';
import type { TeacherCache } from './teacher-cache.ts';
import { onPolicyDraw, studentBatch } from './on-policy.ts';
import type { Tokenizer } from '../../tokenizer/index.ts';

export class DistillObjective implements TrainObjective {
  /** The teacher in memory (null: soft labels come from the cache and no hidden states are matched). */
  teacher: CausalLM | null = null;
  cache: TeacherCache | null = null;
  /** The student's tokenizer (on-policy sampling). */
  tokenizer: Tokenizer | null = null;
  readonly params: readonly Param[];

  constructor(
    readonly cfg: DistillSection,
    readonly hidden: HiddenMatcher | null,
    readonly attention: AttentionMatcher | null,
    readonly runJson: JsonObject,
    /** The run's seed (on-policy draws). */
    readonly seed: number,
  ) {
    this.params = hidden?.params ?? [];
  }

  /** Whether the teacher must stay in memory during training. */
  get needsTeacher(): boolean {
    return (
      (this.cfg.alpha > 0 && (this.cfg.teacherCache === null || this.cfg.onPolicy !== null)) ||
      this.hidden !== null ||
      this.attention !== null
    );
  }

  loss(model: CausalLM, data: Tensor, oc: ObjectiveConfig): ObjectiveResult {
    const { alpha, onPolicy } = this.cfg;
    // GKD's λ: some batches are the student's own continuations, scored by the teacher (on-policy.ts).
    const draw = onPolicy && alpha > 0 ? onPolicyDraw(this.seed, data, onPolicy.lambda) : null;
    const sampled = draw?.on ? studentBatch(model, this.tokenizer!, data, onPolicy!, draw.seed) : null;
    const ids = sampled ? sampled.ids : data;
    const student = (): ObjectiveResult => lmObjective(model, ids, oc, { hiddenStates: this.hidden !== null });
    let studentCalls: AttentionCall[] = [];
    let lm: ObjectiveResult;
    if (this.attention) ({ result: lm, calls: studentCalls } = captureAttention(student));
    else lm = student();
    const parts: Record<string, number> = {};
    // The hard-label term trains on data only: on the student's own tokens it would reinforce them.
    let total: Tensor | null = alpha < 1 && !sampled ? (alpha > 0 ? T.mul(lm.total, 1 - alpha) : lm.total) : null;
    if (onPolicy) parts.onPolicy = sampled ? 1 : 0;
    const add = (t: Tensor) => (total = total ? T.add(total, t) : t);
    const [B, L1] = ids.shape as [number, number];
    const L = L1 - 1;

    let teacherOut: ForwardResult | null = null;
    let teacherCalls: AttentionCall[] = [];
    const softFromTeacher = alpha > 0 && (this.cache === null || sampled !== null);
    if (softFromTeacher || this.hidden || this.attention) {
      if (!this.teacher) throw new Error('DistillObjective: the teacher is not loaded');
      const inputs = T.contiguous(T.slice(ids, 1, 0, L));
      const teacher = this.teacher;
      const run = () =>
        T.noGrad(() => teacher.forward(inputs, { hiddenStates: this.hidden !== null, logits: softFromTeacher ? 'all' : 'none' }));
      if (this.attention) ({ result: teacherOut, calls: teacherCalls } = captureAttention(run));
      else teacherOut = run();
    }
    if (alpha > 0) {
      // Every position, or on-policy only those that predict the student's own tokens.
      const from = sampled ? sampled.from : 0;
      const n = B * (L - from);
      const rows = (x: Tensor) => T.reshape(from === 0 ? x : T.contiguous(T.slice(x, 1, from, L)), [n, x.shape[2]!]);
      const targets: TeacherTargets =
        this.cache && !sampled ? { kind: 'topk', ...this.cache.lookup(ids) } : { kind: 'logits', logits: rows(teacherOut!.logits!) };
      const soft = softLabelLoss(rows(lm.forward.logits!), targets, this.cfg);
      parts.soft = soft.item();
      add(alpha < 1 ? T.mul(soft, alpha) : soft);
    }
    if (this.hidden) {
      const h = this.hidden.loss(lm.forward.hiddenStates!, teacherOut!.hiddenStates!);
      parts.hidden = h.item();
      add(T.mul(h, this.hidden.cfg.weight));
    }
    if (this.attention) {
      const a = this.attention.loss(teacherCalls, studentCalls);
      parts.attention = a.item();
      add(T.mul(a, this.attention.cfg.weight));
    }
    return { ...lm, total: total!, parts };
  }
}
