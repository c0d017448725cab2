/**
 * Attention distillation (MiniLM, Wang et al. 2020): the student's attention distributions of a
 * chosen block are pulled towards the teacher's by KL, head by head.
 *
 * The attention kernel never materialises the T×T distributions, so they are rebuilt here from the
 * queries and keys each block hands the attention op (tensor/ops/attention-probe.ts):
 * softmax(scale · q kᵀ) under the causal mask, per head, keys shared across a GQA group. For MLA
 * (DeepSeek-V2/V3) the keys are those of the training forward — the no-RoPE part decompressed from
 * the KV latent by kv_b_proj, with the shared RoPE key — so the teacher's distributions come from
 * its latents, with its own softmax scale (YaRN's mscale included).
 *
 * Heads: with as many heads in both, head h matches head h; when the teacher has g times as many,
 * each student head matches the mean distribution of g consecutive teacher heads (a mixture of
 * distributions is one); any other ratio is refused. Both attend over the same positions (the same
 * inputs), so lengths always agree.
 *
 *   L_attn = mean over pairs, batch, student heads and queries of KL(A_T ‖ A_S)
 */
import * as T from '../../tensor/index.ts';
import { Tensor, floatData, withAttentionProbe } from '../../tensor/index.ts';

export interface AttentionConfig {
  /** [teacher block, student block] pairs, blocks numbered 1..num_hidden_layers. */
  pairs: [number, number][];
  /** The term's weight in the total. */
  weight: number;
}

export interface AttentionCall {
  q: Tensor;
  k: Tensor;
  scale: number;
}

/** Runs `body`, recording the queries and keys of every attention call it makes (in call order). */
export function captureAttention<R>(body: () => R): { result: R; calls: AttentionCall[] } {
  const calls: AttentionCall[] = [];
  const result = withAttentionProbe((q, k, o) => calls.push({ q, k, scale: o.scale ?? 1 / Math.sqrt(q.shape[3]!) }), body);
  return { result, calls };
}

/** Causal attention log-probabilities [B, H, Tq, Tk] of q [B, H, Tq, D] and k [B, Hkv, Tk, D]. */
export function attentionLogProbs(q: Tensor, k: Tensor, scale: number): Tensor {
  const [, H, Tq] = q.shape as [number, number, number, number];
  const [, Hkv, Tk] = k.shape as [number, number, number, number];
  const group = H / Hkv;
  const heads: Tensor[] = [];
  for (let h = 0; h < H; h++) {
    const kh = T.slice(k, 1, Math.floor(h / group), Math.floor(h / group) + 1);
    heads.push(T.matmul(T.slice(q, 1, h, h + 1), T.transpose(kh, -2, -1)));
  }
  const mask = new Float64Array(Tq * Tk);
  for (let i = 0; i < Tq; i++) for (let j = i + (Tk - Tq) + 1; j < Tk; j++) mask[i * Tk + j] = -1e9;
  const scores = T.add(T.mul(T.concat(heads, 1), scale), Tensor.from(mask, [Tq, Tk], q.dtype === 'f64' ? 'f64' : 'f32'));
  return T.logSoftmax(scores, -1);
}

/**
 * KL(A_T ‖ A_S) averaged over batch, student heads and queries, from teacher log-probabilities
 * [B, Ht, Tq, Tk] (a target: no gradient) and student ones [B, Hs, Tq, Tk]; Ht must be a multiple of Hs.
 */
export function attentionKl(teacher: Tensor, student: Tensor): Tensor {
  const [B, Ht, Tq, Tk] = teacher.shape as [number, number, number, number];
  const Hs = student.shape[1]!;
  if (Ht % Hs !== 0) throw new Error(`attention distillation: ${Ht} teacher heads cannot be matched to ${Hs} student heads`);
  const g = Ht / Hs;
  const lt = floatData(teacher);
  // The teacher's distribution per student head (the mean over its group), and its negative entropy.
  const pt = new Float64Array(B * Hs * Tq * Tk);
  for (let b = 0; b < B; b++)
    for (let h = 0; h < Ht; h++) {
      const src = (b * Ht + h) * Tq * Tk;
      const dst = (b * Hs + Math.floor(h / g)) * Tq * Tk;
      for (let i = 0; i < Tq * Tk; i++) pt[dst + i] += Math.exp(lt[src + i]!) / g;
    }
  let negEntropy = 0;
  for (const p of pt) if (p > 0) negEntropy += p * Math.log(p);
  const dtype = student.dtype === 'f64' ? 'f64' : 'f32';
  const n = B * Hs * Tq;
  const cross = T.sum(T.mul(student, Tensor.from(pt, student.shape, dtype)));
  return T.mul(T.sub(negEntropy, cross), 1 / n);
}

export class AttentionMatcher {
  constructor(
    readonly cfg: AttentionConfig,
    teacherHeads: number,
    studentHeads: number,
  ) {
    if (teacherHeads % studentHeads !== 0)
      throw new Error(
        `attention distillation needs the teacher's heads (${teacherHeads}) to be a multiple of the student's (${studentHeads})`,
      );
  }

  /** The loss over every pair, from the attention calls of the teacher's and the student's forward. */
  loss(teacher: readonly AttentionCall[], student: readonly AttentionCall[]): Tensor {
    const terms = this.cfg.pairs.map(([t, s]) => {
      const tc = teacher[t - 1];
      const sc = student[s - 1];
      if (!tc || !sc)
        throw new Error(`attention pair [${t}, ${s}]: no attention call for block ${!tc ? `${t} in the teacher` : `${s} in the student`}`);
      const lt = T.noGrad(() => attentionLogProbs(tc.q.detach(), tc.k.detach(), tc.scale));
      return attentionKl(lt, attentionLogProbs(sc.q, sc.k, sc.scale));
    });
    return T.mul(
      terms.reduce((a, b) => T.add(a, b)),
      1 / terms.length,
    );
  }
}
