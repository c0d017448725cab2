// Distillation losses against their closed forms and their gradients against finite differences in
// f64: forward / reverse KL and TRL's generalised JSD at a temperature, the T² scaling (Hinton's
// high-temperature limit), the top-k teacher (selection and the error of its approximation), the
// hidden-state losses, and attention distributions rebuilt from queries and keys with their KL.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as T from '../../src/tensor/index.ts';
import { Tensor } from '../../src/tensor/index.ts';
import { softLabelLoss, expandTopK, type Divergence, type SoftLabelOptions } from '../../src/posttrain/distill/losses.ts';
import { topKLogprobs } from '../../src/posttrain/distill/teacher-cache.ts';
import { hiddenCosine, hiddenMse } from '../../src/posttrain/distill/hidden.ts';
import { attentionKl, attentionLogProbs } from '../../src/posttrain/distill/attention.ts';
import { gradcheck, randn } from '../helpers/gradcheck.ts';

const close = (a: number, b: number, tol = 1e-10) => assert.ok(Math.abs(a - b) <= tol * (1 + Math.abs(b)), `${a} vs ${b}`);

/** softmax(x / T) of one row, by definition. */
function probs(x: number[], temp: number): number[] {
  const e = x.map((v) => Math.exp(v / temp));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}

const kl = (p: number[], q: number[]) => p.reduce((a, pi, i) => a + (pi > 0 ? pi * Math.log(pi / q[i]!) : 0), 0);

/** The divergence of one row straight from its definition (TRL's generalized_jsd_loss per row). */
function reference(zs: number[], zt: number[], d: Divergence, beta: number, temp: number): number {
  const ps = probs(zs, temp);
  const pt = probs(zt, temp);
  if (d === 'forward_kl' || (d === 'jsd' && beta === 0)) return kl(pt, ps);
  if (d === 'reverse_kl' || (d === 'jsd' && beta === 1)) return kl(ps, pt);
  const m = ps.map((p, i) => beta * pt[i]! + (1 - beta) * p);
  return beta * kl(pt, m) + (1 - beta) * kl(ps, m);
}

const rows = (t: Tensor, V: number) => {
  const a = t.toArray() as number[];
  return Array.from({ length: a.length / V }, (_, r) => a.slice(r * V, (r + 1) * V));
};

const CASES: { divergence: Divergence; beta: number }[] = [
  { divergence: 'forward_kl', beta: 0.5 },
  { divergence: 'reverse_kl', beta: 0.5 },
  { divergence: 'jsd', beta: 0.5 },
  { divergence: 'jsd', beta: 0.1 },
  { divergence: 'jsd', beta: 0.9 },
  { divergence: 'jsd', beta: 0 },
  { divergence: 'jsd', beta: 1 },
];

test('soft-label losses match their definitions (mean over rows, T² scaling)', () => {
  const V = 7;
  const s = randn([4, V], 1, 2);
  const t = randn([4, V], 2, 2);
  for (const { divergence, beta } of CASES) {
    for (const temperature of [1, 2.5]) {
      const want = rows(s, V).reduce((a, zs, r) => a + reference(zs, rows(t, V)[r]!, divergence, beta, temperature), 0) / 4;
      const plain = softLabelLoss(s, { kind: 'logits', logits: t }, { divergence, beta, temperature, scaleT2: false }).item();
      close(plain, want);
      const scaled = softLabelLoss(s, { kind: 'logits', logits: t }, { divergence, beta, temperature, scaleT2: true }).item();
      close(scaled, temperature * temperature * want);
    }
  }
  // β = 0 and 1 are TRL's forward and reverse KL, not the (vanishing) limits of the mixture.
  const o = (d: Divergence, beta: number): SoftLabelOptions => ({ divergence: d, beta, temperature: 1, scaleT2: false });
  close(
    softLabelLoss(s, { kind: 'logits', logits: t }, o('jsd', 0)).item(),
    softLabelLoss(s, { kind: 'logits', logits: t }, o('forward_kl', 0)).item(),
  );
  close(
    softLabelLoss(s, { kind: 'logits', logits: t }, o('jsd', 1)).item(),
    softLabelLoss(s, { kind: 'logits', logits: t }, o('reverse_kl', 0)).item(),
  );
  // A student equal to the teacher has zero loss under every divergence.
  for (const { divergence, beta } of CASES)
    close(softLabelLoss(t, { kind: 'logits', logits: t }, { ...o(divergence, beta), temperature: 3 }).item(), 0);
});

test('soft-label gradients match finite differences in f64', () => {
  const t = randn([3, 6], 4, 1.5);
  for (const { divergence, beta } of CASES) {
    for (const [temperature, scaleT2] of [
      [1, false],
      [2.5, true],
      [0.7, true],
    ] as const) {
      gradcheck(
        (s) => softLabelLoss(s!, { kind: 'logits', logits: t }, { divergence, beta, temperature, scaleT2 }),
        [randn([3, 6], 5, 1.5)],
      );
    }
  }
});

test('T² keeps the gradient T-independent: Hinton’s high-temperature limit (z_S − z_T)/V', () => {
  const V = 9;
  // Zero-mean logits, as Hinton's derivation assumes.
  const centre = (x: Tensor) => T.sub(x, T.mean(x, -1, true));
  const zs = centre(randn([1, V], 6));
  const zt = centre(randn([1, V], 7));
  const grad = (temperature: number, scaleT2: boolean) => {
    const s = zs.detach().requireGrad();
    T.backward(softLabelLoss(s, { kind: 'logits', logits: zt }, { divergence: 'forward_kl', beta: 0, temperature, scaleT2 }));
    return s.grad!.toArray() as number[];
  };
  const limit = (zs.toArray() as number[]).map((v, i) => (v - (zt.toArray() as number[])[i]!) / V);
  // The gap to the limit is O(1/T): ten times the temperature, a tenth of the gap.
  const gap = (temperature: number) => Math.max(...grad(temperature, true).map((v, i) => Math.abs(v - limit[i]!)));
  const scale = Math.max(...limit.map(Math.abs));
  assert.ok(gap(2000) < 1e-3 * scale, `gap at T = 2000: ${gap(2000)}`);
  assert.ok(gap(2000) < 0.2 * gap(200), `gap ${gap(200)} at T = 200, ${gap(2000)} at T = 2000`);
  // Unscaled, the gradient shrinks as 1/T².
  const g10 = grad(100, false);
  const g20 = grad(200, false);
  g10.forEach((v, i) => close(v / g20[i]!, 4, 2e-2));
});

test('top-k selection: the k most likely tokens with their log-probabilities, most likely first', () => {
  const V = 50;
  const x = randn([3, V], 8, 3);
  for (const temperature of [1, 2]) {
    const top = topKLogprobs(x, 5, temperature);
    rows(x, V).forEach((row, r) => {
      const p = probs(row, temperature);
      const order = p.map((v, i) => [v, i] as const).sort((a, b) => b[0] - a[0]);
      for (let i = 0; i < 5; i++) {
        assert.equal(top.indices[r * 5 + i], order[i]![1]);
        close(Math.exp(top.logprobs[r * 5 + i]!), order[i]![0], 1e-6);
      }
    });
  }
});

test('top-k teacher: k = V is the full distribution; the approximation error falls with k', () => {
  const V = 40;
  const s = randn([4, V], 9, 2);
  const t = randn([4, V], 10, 3);
  for (const { divergence, beta } of CASES) {
    const o = { divergence, beta, temperature: 1.5, scaleT2: true };
    const full = softLabelLoss(s, { kind: 'logits', logits: t }, o).item();
    const all = topKLogprobs(t, V, 1.5);
    close(softLabelLoss(s, { kind: 'topk', ...all }, o).item(), full, 1e-6);
  }
  // KL(teacher ‖ its top-k reconstruction) per row: 0 at k = V, shrinking as k grows.
  const errors = [1, 5, 10, 20, 40].map((k) => {
    const top = topKLogprobs(t, k, 1);
    const lt = new Float64Array(V);
    return rows(t, V).reduce((a, row, r) => {
      expandTopK(top.indices, top.logprobs, r * k, k, V, lt);
      return a + kl(probs(row, 1), Array.from(lt, Math.exp));
    }, 0);
  });
  for (let i = 1; i < errors.length; i++) assert.ok(errors[i]! < errors[i - 1]!, `KL at larger k must be smaller: ${errors}`);
  close(errors.at(-1)!, 0, 1e-6);
});

test('top-k soft-label gradients match finite differences in f64', () => {
  const top = topKLogprobs(randn([3, 8], 11, 2), 3, 2);
  for (const { divergence, beta } of CASES) {
    gradcheck((s) => softLabelLoss(s!, { kind: 'topk', ...top }, { divergence, beta, temperature: 2, scaleT2: true }), [randn([3, 8], 12)]);
  }
});

test('hidden-state losses: closed forms and gradients (through a projection)', () => {
  const a = Tensor.from([1, 0, 0, 0, 2, 0], [2, 3], 'f64');
  const b = Tensor.from([0, 1, 0, 0, 3, 0], [2, 3], 'f64');
  close(hiddenMse(a, b).item(), (1 + 1 + 1) / 6); // (1−0)², (0−1)², (2−3)² over 6 entries
  close(hiddenCosine(a, b).item(), 1 - (0 + 1) / 2); // orthogonal row, parallel row
  const target = randn([2, 3, 5], 13);
  gradcheck((h, w) => hiddenMse(T.linear(h!, w!), target), [randn([2, 3, 4], 14), randn([5, 4], 15)]);
  gradcheck((h, w) => hiddenCosine(T.linear(h!, w!), target), [randn([2, 3, 4], 16), randn([5, 4], 17)]);
});

test('attention distributions rebuilt from q and k reproduce the attention op (GQA, causal, scale)', () => {
  const q = randn([2, 4, 5, 3], 20);
  const k = randn([2, 2, 5, 3], 21);
  const v = randn([2, 2, 5, 3], 22);
  const scale = 0.7;
  const probs = T.exp(attentionLogProbs(q, k, scale));
  // Each of the 4 query heads reads kv head ⌊h / 2⌋.
  const vh = T.concat(
    [0, 0, 1, 1].map((h) => T.slice(v, 1, h, h + 1)),
    1,
  );
  const want = T.attention(q, k, v, { scale }).toArray() as number[];
  (T.matmul(probs, vh).toArray() as number[]).forEach((x, i) => close(x, want[i]!, 1e-9));
  // Causal: no weight on later keys.
  const p = probs.toArray() as number[];
  for (let i = 0; i < 5; i++) for (let j = i + 1; j < 5; j++) assert.equal(p[i * 5 + j], 0);
});

test('attention KL: the definition, a teacher with twice the heads, and gradients in f64', () => {
  const student = attentionLogProbs(randn([1, 2, 4, 3], 23), randn([1, 1, 4, 3], 24), 0.5);
  const teacher = attentionLogProbs(randn([1, 4, 4, 3], 25), randn([1, 4, 4, 3], 26), 0.5);
  // By definition: KL(mean of teacher heads 2h, 2h+1 ‖ student head h), mean over heads and queries.
  const s = student.toArray() as number[];
  const t = teacher.toArray() as number[];
  let want = 0;
  for (let h = 0; h < 2; h++)
    for (let i = 0; i < 4; i++) {
      const pt = [0, 1, 2, 3].map((j) => (Math.exp(t[(2 * h * 4 + i) * 4 + j]!) + Math.exp(t[((2 * h + 1) * 4 + i) * 4 + j]!)) / 2);
      const ps = [0, 1, 2, 3].map((j) => Math.exp(s[(h * 4 + i) * 4 + j]!));
      want += kl(pt, ps) / 8;
    }
  close(attentionKl(teacher, student).item(), want, 1e-9);
  close(attentionKl(student, student).item(), 0, 1e-9);
  assert.throws(() => attentionKl(student, teacher), /2 teacher heads cannot be matched to 4 student heads/);
  gradcheck((q, k) => attentionKl(teacher, attentionLogProbs(q!, k!, 0.5)), [randn([1, 2, 4, 3], 27), randn([1, 1, 4, 3], 28)]);
});
