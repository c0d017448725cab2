// Tensor basics: views share storage, broadcasting, reductions, matmul against a naive product.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as T from '../../src/tensor/index.ts';
import { Tensor, Rng } from '../../src/tensor/index.ts';

test('views share storage; contiguous copies only when needed', () => {
  const x = Tensor.from([0, 1, 2, 3, 4, 5], [2, 3]);
  const t = T.transpose(x);
  assert.equal(t.data, x.data);
  assert.deepEqual(t.shape, [3, 2]);
  assert.deepEqual(t.toArray(), [0, 3, 1, 4, 2, 5]);
  assert.equal(t.isContiguous(), false);
  const c = T.contiguous(t);
  assert.notEqual(c.data, x.data);
  assert.deepEqual(Array.from(c.data), [0, 3, 1, 4, 2, 5]);
  assert.equal(T.contiguous(x), x);
  const s = T.slice(x, 1, 1, 3);
  assert.equal(s.data, x.data);
  assert.deepEqual(s.toArray(), [1, 2, 4, 5]);
  const e = T.expand(Tensor.from([7, 8], [2, 1]), [2, 3]);
  assert.deepEqual(e.strides, [1, 0]);
  assert.deepEqual(e.toArray(), [7, 7, 7, 8, 8, 8]);
  assert.equal(T.reshape(x, [3, 2]).data, x.data);
});

test('broadcasting arithmetic and reductions', () => {
  const a = Tensor.from([1, 2, 3, 4, 5, 6], [2, 3]);
  const b = Tensor.from([10, 20, 30], [3]);
  assert.deepEqual(T.add(a, b).toArray(), [11, 22, 33, 14, 25, 36]);
  assert.deepEqual(T.mul(Tensor.from([2, 3], [2, 1]), b).toArray(), [20, 40, 60, 30, 60, 90]);
  assert.deepEqual(T.sum(a, 0).toArray(), [5, 7, 9]);
  assert.deepEqual(T.sum(a, 1, true).shape, [2, 1]);
  assert.deepEqual(T.mean(a, -1).toArray(), [2, 5]);
  assert.deepEqual(T.max(a, 0).toArray(), [4, 5, 6]);
  assert.throws(() => T.add(a, Tensor.from([1, 2], [2])), /cannot broadcast/);
});

test('matmul equals the naive product for strided and batched operands', () => {
  const rng = new Rng(3);
  for (const [M, K, N] of [
    [1, 1, 1],
    [3, 5, 7],
    [17, 9, 4],
    [2, 33, 1],
  ] as const) {
    const a = Tensor.randn([M, K], rng);
    const b = Tensor.randn([N, K], rng);
    const c = T.matmul(a, T.transpose(b));
    const ad = a.toArray();
    const bd = b.toArray();
    const cd = c.toArray();
    for (let m = 0; m < M; m++) {
      for (let n = 0; n < N; n++) {
        let s = 0;
        for (let k = 0; k < K; k++) s += ad[m * K + k]! * bd[n * K + k]!;
        assert.ok(Math.abs(cd[m * N + n]! - s) < 1e-4);
      }
    }
  }
  const x = Tensor.randn([4, 2, 3], rng);
  const y = Tensor.randn([3, 5], rng);
  const z = T.matmul(x, y);
  assert.deepEqual(z.shape, [4, 2, 5]);
  const z1 = T.matmul(T.slice(x, 0, 1, 2), y);
  assert.deepEqual(
    T.slice(z, 0, 1, 2)
      .toArray()
      .map((v) => v.toFixed(4)),
    z1.toArray().map((v) => v.toFixed(4)),
  );
});

test('top-k orders values and breaks ties by lower index', () => {
  const { values, indices } = T.topk(Tensor.from([1, 5, 3, 5, 0], [5]), 3);
  assert.deepEqual(values.toArray(), [5, 5, 3]);
  assert.deepEqual(indices.toArray(), [1, 3, 2]);
});

test('seeded random numbers are reproducible', () => {
  const a = Tensor.randn([5], new Rng(42)).toArray();
  const b = Tensor.randn([5], new Rng(42)).toArray();
  const c = Tensor.randn([5], new Rng(43)).toArray();
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
});
