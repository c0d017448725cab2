// BF16 mixed precision (the baseline of DeepSeek-V3 §3.3's FP8 comparison): the bf16 linear's
// forward and both backward GEMMs against a hand-written computation in f64 on operands rounded by a
// hand-written round-to-nearest-even; the rounding against PyTorch's (the codecs fixture) on ties;
// and which layers the bf16 mode touches.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as T from '../../src/tensor/index.ts';
import { loadConfig } from '../../src/io/config.ts';
import { initWeights } from '../../src/model/init.ts';
import { buildModel } from '../../src/model/registry.ts';
import { lmObjective } from '../../src/train/objective.ts';
import { withPrecision } from '../../src/train/precision.ts';
import { bf16Linear, roundBf16 } from '../../src/train/bf16/linear.ts';
import { fixture } from '../helpers/fixtures.ts';

/** x (a finite f32, normal in bf16) to 8 significant bits, nearest, ties to even — by arithmetic, not bits. */
function bf16Ref(x: number): number {
  if (x === 0) return x;
  const ulp = 2 ** (Math.floor(Math.log2(Math.abs(x))) - 7);
  const q = x / ulp;
  const f = Math.floor(q);
  const r = q - f === 0.5 ? (f % 2 === 0 ? f : f + 1) : Math.round(q);
  return r * ulp;
}

function gemmNT(a: ArrayLike<number>, b: ArrayLike<number>, M: number, N: number, K: number): Float64Array {
  const y = new Float64Array(M * N);
  for (let m = 0; m < M; m++)
    for (let n = 0; n < N; n++) {
      let s = 0;
      for (let k = 0; k < K; k++) s += a[m * K + k]! * b[n * K + k]!;
      y[m * N + n] = s;
    }
  return y;
}

function transpose(x: ArrayLike<number>, rows: number, cols: number): Float64Array {
  const t = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) t[c * rows + r] = x[r * cols + c]!;
  return t;
}

function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num += (a[i]! - b[i]!) ** 2;
    den += b[i]! ** 2;
  }
  return Math.sqrt(num / den);
}

test('roundBf16: nearest, ties to even, like the hand-written rounding', () => {
  const rng = new T.Rng(11);
  const x = Float32Array.from({ length: 4000 }, () => rng.normal() * 10 ** rng.int(7 - 3));
  // Exact ties (half an ulp above a bf16 value, odd and even last bits) and values just past them.
  x.set([1 + 2 ** -8, 1 + 3 * 2 ** -8, 1 + 2 ** -8 + 2 ** -20, -(1 + 3 * 2 ** -8), 0, -0], 0);
  const got = roundBf16(x);
  for (let i = 0; i < x.length; i++) assert.equal(got[i], bf16Ref(x[i]!), `x[${i}] = ${x[i]}`);
  assert.deepEqual(Array.from(got.subarray(0, 4)), [1, 1 + 2 ** -6, 1 + 2 ** -7, -(1 + 2 ** -6)]);
  assert.ok(Object.is(got[5], -0));
});

test('bf16Linear: forward and both backward GEMMs equal the hand-written bf16-operand computation; close to f32', () => {
  const [M, K, N] = [150, 200, 136];
  const rng = new T.Rng(5);
  const X = Float32Array.from({ length: M * K }, () => rng.normal());
  const W = Float32Array.from({ length: N * K }, () => rng.normal() * 0.05);
  const G = Float32Array.from({ length: M * N }, () => rng.normal());
  const bias = Float32Array.from({ length: N }, () => rng.normal());
  const run = (f: (x: T.Tensor, w: T.Tensor, b: T.Tensor) => T.Tensor) => {
    const x = new T.Tensor(X.slice(), [3, 50, K], 'f32').requireGrad();
    const w = new T.Tensor(W.slice(), [N, K], 'f32').requireGrad();
    const b = new T.Tensor(bias.slice(), [N], 'f32').requireGrad();
    const y = f(x, w, b);
    T.backward(T.sum(T.mul(y, new T.Tensor(G, [3, 50, N], 'f32'))));
    return { y: T.floatData(y), dx: T.floatData(x.grad!), dw: T.floatData(w.grad!), db: T.floatData(b.grad!) };
  };
  const bf = run(bf16Linear);
  const f32 = run(T.linear);

  const xq = Array.from(X, bf16Ref);
  const wq = Array.from(W, bf16Ref);
  const gq = Array.from(G, bf16Ref);
  const yRef = gemmNT(xq, wq, M, N, K).map((v, i) => v + bias[i % N]!);
  const dxRef = gemmNT(gq, transpose(wq, N, K), M, K, N);
  const dwRef = gemmNT(transpose(gq, M, N), transpose(xq, M, K), N, K, M);
  for (const [name, got, want] of [
    ['y', bf.y, yRef],
    ['dx', bf.dx, dxRef],
    ['dw', bf.dw, dwRef],
  ] as const) {
    // Same rounded operands, products exact in f32: only the f32 accumulation order differs.
    assert.ok(relErr(got, want) < 2e-6, `${name}: ${relErr(got, want)} from the hand-written bf16 computation`);
  }
  assert.deepEqual(Array.from(bf.db), Array.from(f32.db), 'bias gradient stays f32');
  // bf16 keeps 8 significant bits: errors of a few 1e-3 against f32, well below FP8's few 1e-2.
  for (const [name, e] of Object.entries({ y: relErr(bf.y, f32.y), dx: relErr(bf.dx, f32.dx), dw: relErr(bf.dw, f32.dw) }))
    assert.ok(e > 3e-4 && e < 5e-3, `${name}: bf16 vs f32 relative error ${e}`);
});

test('bf16 mode: exactly the block projections switch, the same ones as in FP8 mode', () => {
  const c = loadConfig(fixture('models', 'deepseek_v3_tiny', 'config.json'));
  const m = buildModel(c, initWeights(c, 7));
  const rng = new T.Rng(8);
  const ids = T.Tensor.from(
    Array.from({ length: 2 * 9 }, () => rng.int(c.vocabSize)),
    [2, 9],
    'i32',
  );
  const cfg = { mtpWeight: 0.3, balanceAlpha: 1e-3 };
  const count = (root: T.Tensor, op: string) => {
    let n = 0;
    const seen = new Set<T.Tensor>();
    const stack = [root];
    while (stack.length) {
      const t = stack.pop()!;
      if (seen.has(t) || !t.gradFn) continue;
      seen.add(t);
      if (t.gradFn.op === op) n++;
      stack.push(...t.gradFn.inputs);
    }
    return n;
  };
  const bf = withPrecision('bf16', () => lmObjective(m, ids, cfg));
  const f8 = withPrecision('fp8', () => lmObjective(m, ids, cfg));
  const f32 = lmObjective(m, ids, cfg);
  assert.ok(count(bf.total, 'bf16Linear') > 0);
  assert.equal(count(bf.total, 'bf16Linear'), count(f8.total, 'fp8Linear'));
  assert.equal(count(bf.total, 'fp8Linear'), 0);
  assert.equal(count(bf.total, 'matmul'), count(f8.total, 'matmul'), 'head, routers and eh_proj stay f32');
  const gap = (a: number) => Math.abs(a - f32.total.item()) / f32.total.item();
  assert.ok(gap(bf.total.item()) > 0 && gap(bf.total.item()) < gap(f8.total.item()), 'bf16 sits between f32 and FP8');
});
