// Every differentiable op's backward against central finite differences in f64, on odd shapes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as T from '../../src/tensor/index.ts';
import { Tensor } from '../../src/tensor/index.ts';
import { gradcheck, randn } from '../helpers/gradcheck.ts';

const positive = (shape: number[], seed: number) => T.add(T.map(randn(shape, seed), Math.abs), 0.5);

test('elementwise arithmetic with broadcasting', () => {
  gradcheck((a, b) => T.add(a!, b!), [randn([3, 5], 1), randn([5], 2)]);
  gradcheck((a, b) => T.sub(a!, b!), [randn([2, 1, 3], 3), randn([4, 1], 4)]);
  gradcheck((a, b) => T.mul(a!, b!), [randn([3, 1, 5], 5), randn([3, 7, 1], 6)]);
  gradcheck((a, b) => T.div(a!, b!), [randn([7, 3], 7), positive([7, 1], 8)]);
  gradcheck((a) => T.mul(T.add(a!, 1.5), -2), [randn([5], 9)]);
});

test('pointwise functions', () => {
  gradcheck((a) => T.exp(a!), [randn([3, 7], 10)]);
  gradcheck((a) => T.log(a!), [positive([5, 3], 11)]);
  gradcheck((a) => T.sqrt(a!), [positive([9], 12)]);
  gradcheck((a) => T.rsqrt(a!), [positive([2, 5], 13)]);
  gradcheck((a) => T.sigmoid(a!), [randn([11], 14)]);
  gradcheck((a) => T.silu(a!), [randn([3, 5], 15)]);
  gradcheck((a) => T.square(a!), [randn([7], 16)]);
  gradcheck((a) => T.pow(a!, 3), [randn([7], 17)]);
  gradcheck((a) => T.tanh(a!), [randn([6], 18)]);
  gradcheck((a) => T.neg(a!), [randn([6], 19)]);
  gradcheck((a) => T.reciprocal(a!), [positive([6], 20)]);
});

test('reductions over axes', () => {
  gradcheck((a) => T.sum(a!), [randn([3, 5], 21)]);
  gradcheck((a) => T.sum(a!, 1), [randn([3, 5, 2], 22)]);
  gradcheck((a) => T.sum(a!, [0, 2], true), [randn([3, 5, 2], 23)]);
  gradcheck((a) => T.mean(a!, -1), [randn([4, 7], 24)]);
  gradcheck((a) => T.mean(a!, [0, 1]), [randn([3, 5, 2], 25)]);
  gradcheck((a) => T.max(a!, 1), [randn([3, 5, 2], 26)]);
  gradcheck((a) => T.max(a!, [0, 2], true), [randn([3, 5, 2], 27)]);
});

test('views, concat and split', () => {
  gradcheck((a) => T.reshape(T.transpose(a!, 0, 2), [-1, 3]), [randn([3, 2, 5], 30)]);
  gradcheck((a) => T.permute(a!, [2, 0, 1]), [randn([3, 2, 5], 31)]);
  gradcheck((a) => T.slice(a!, 1, 1, 4), [randn([3, 5], 32)]);
  gradcheck((a) => T.mul(T.expand(a!, [4, 3, 5]), randn([4, 3, 5], 33)), [randn([3, 1], 34)]);
  gradcheck((a, b) => T.concat([a!, b!, a!], 1), [randn([2, 3], 35), randn([2, 5], 36)]);
  gradcheck(
    (a) => {
      const [x, y] = T.split(a!, [2, 3], 0);
      return T.mul(x!, T.slice(y!, 0, 0, 2));
    },
    [randn([5, 3], 37)],
  );
  gradcheck((a) => T.contiguous(T.transpose(a!)), [randn([3, 4], 38)]);
});

test('matmul: batched, broadcast, transposed operands', () => {
  gradcheck((a, b) => T.matmul(a!, b!), [randn([3, 5], 40), randn([5, 7], 41)]);
  gradcheck((a, b) => T.matmul(a!, b!), [randn([2, 3, 5], 42), randn([5, 4], 43)]);
  gradcheck((a, b) => T.matmul(T.transpose(a!), T.transpose(b!)), [randn([5, 3], 44), randn([7, 5], 45)]);
  gradcheck((a, b) => T.matmul(a!, b!), [randn([2, 1, 3, 5], 46), randn([3, 5, 2], 47)]);
  gradcheck((a, b) => T.matmul(a!, b!), [randn([5], 48), randn([5, 3], 49)]);
  gradcheck((x, w, b) => T.linear(x!, w!, b!), [randn([2, 3, 5], 50), randn([7, 5], 51), randn([7], 52)]);
});

test('softmax, log-softmax and fused cross-entropy (with ignore index)', () => {
  gradcheck((a) => T.softmax(a!), [randn([3, 7], 60)]);
  gradcheck((a) => T.softmax(a!, 0), [randn([5, 3], 61)]);
  gradcheck((a) => T.logSoftmax(a!), [randn([4, 9], 62)]);
  const targets = Tensor.from([3, -100, 0, 8, 5], [5], 'i32');
  gradcheck((a) => T.crossEntropy(a!, targets), [randn([5, 9], 63)]);
  const t3 = Tensor.from([1, 2, 0, 4, 4, -1], [2, 3], 'i32');
  gradcheck((a) => T.crossEntropy(a!, t3, -1), [randn([2, 3, 5], 64)]);
});

test('fused RMSNorm and SiLU·mul', () => {
  gradcheck((x, w) => T.rmsNorm(x!, w!, 1e-6), [randn([3, 7], 70), randn([7], 71)]);
  gradcheck((x, w) => T.rmsNorm(x!, w!, 1e-2), [randn([2, 3, 5], 72), randn([5], 73)]);
  gradcheck((g, u) => T.siluMul(g!, u!), [randn([3, 5], 74), randn([3, 5], 75)]);
});

test('embedding, index select/add, gather/scatter-add, top-k', () => {
  const ids = Tensor.from([2, 0, 2, 4], [2, 2], 'i32');
  gradcheck((w) => T.embedding(w!, ids), [randn([5, 3], 80)]);
  const rows = Tensor.from([4, 1, 1], [3], 'i32');
  gradcheck((x) => T.indexSelect(x!, rows), [randn([5, 3], 81)]);
  gradcheck((t, s) => T.indexAdd(t!, rows, s!), [randn([5, 3], 82), randn([3, 3], 83)]);
  const gi = Tensor.from([0, 2, 2, 1, 0, 0], [2, 3], 'i32');
  gradcheck((x) => T.gather(x!, 1, gi), [randn([2, 4], 84)]);
  gradcheck((x) => T.gather(x!, 0, Tensor.from([1, 0, 1], [1, 3], 'i32')), [randn([2, 3], 85)]);
  gradcheck((x, s) => T.scatterAdd(x!, 1, gi, s!), [randn([2, 4], 86), randn([2, 3], 87)]);
  gradcheck((x) => T.topk(x!, 3).values, [randn([4, 7], 88)]);
});

test('RoPE, interleaved and half-split layouts, shared and per-batch tables', () => {
  const [B, Tn, H, D] = [2, 3, 2, 6];
  const ang = randn([Tn, D / 2], 90);
  const cos = T.map(ang, Math.cos);
  const sin = T.map(ang, Math.sin);
  for (const layout of ['interleaved', 'half'] as const) {
    gradcheck((x) => T.rope(x!, cos, sin, layout), [randn([B, Tn, H, D], 91)]);
  }
  const angB = randn([B, Tn, D / 2], 92);
  gradcheck((x) => T.rope(x!, T.map(angB, Math.cos), T.map(angB, Math.sin), 'interleaved'), [randn([B, Tn, H, D], 93)]);
});

test('causal attention with grouped KV heads, forward and backward', () => {
  gradcheck((q, k, v) => T.attention(q!, k!, v!), [randn([2, 4, 5, 3], 100), randn([2, 2, 5, 3], 101), randn([2, 2, 5, 2], 102)]);
  // decoding shape: fewer queries than keys (queries are the last positions)
  gradcheck(
    (q, k, v) => T.attention(q!, k!, v!, { scale: 0.3 }),
    [randn([1, 2, 2, 3], 103), randn([1, 1, 6, 3], 104), randn([1, 1, 6, 4], 105)],
  );
  gradcheck(
    (q, k, v) => T.attention(q!, k!, v!, { causal: false }),
    [randn([1, 3, 3, 5], 106), randn([1, 3, 7, 5], 107), randn([1, 3, 7, 3], 108)],
  );
});

test('gradients accumulate across backward calls and noGrad records nothing', () => {
  const w = randn([3], 110).requireGrad();
  T.backward(T.sum(T.mul(w, 2)));
  T.backward(T.sum(T.mul(w, 3)));
  assert.deepEqual(w.grad!.toArray(), [5, 5, 5]);
  const y = T.noGrad(() => T.mul(w, 2));
  assert.equal(y.requiresGrad, false);
  assert.equal(y.gradFn, null);
});
