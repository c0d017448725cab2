// FP8 mixed precision (DeepSeek-V3 §3.3): tile/block quantisation against a hand-written version
// (bit for bit) and its error bounds; the FP8 linear's forward and both backward GEMMs against a
// manual fake-quant computation in f64, and against f32; which layers the FP8 mode touches; and a
// short training run in FP8 next to the same run in f32.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { e4m3FromF32, f32FromE4m3 } from '../../src/tensor/codecs.ts';
import * as T from '../../src/tensor/index.ts';
import { readFileSync } from 'node:fs';
import { loadConfig, parseConfig } from '../../src/io/config.ts';
import { initWeights } from '../../src/model/init.ts';
import { buildModel } from '../../src/model/registry.ts';
import { projection } from '../../src/model/linear.ts';
import { lmObjective } from '../../src/train/objective.ts';
import { withPrecision } from '../../src/train/precision.ts';
import {
  fp8Linear,
  quantizeTiles,
  quantizeTilesTransposed,
  quantizeBlocks,
  blockOperand,
  blockOperandTransposed,
  dequantizeOperand,
  operandValues,
} from '../../src/train/fp8.ts';
import { fixture } from '../helpers/fixtures.ts';

/** Hand-written fine-grained quantisation: groups of elements share s = f32(amax/448). */
function manualQuant(x: ArrayLike<number>, rows: number, cols: number, groupRows: number, groupCols: number) {
  const q = new Float64Array(rows * cols);
  const deq = new Float64Array(rows * cols);
  const scaleOf = new Float64Array(rows * cols);
  for (let r0 = 0; r0 < rows; r0 += groupRows) {
    for (let c0 = 0; c0 < cols; c0 += groupCols) {
      const cells: number[] = [];
      for (let r = r0; r < Math.min(rows, r0 + groupRows); r++)
        for (let c = c0; c < Math.min(cols, c0 + groupCols); c++) cells.push(r * cols + c);
      const amax = Math.max(...cells.map((i) => Math.abs(x[i]!)));
      const s = Math.fround(amax / 448);
      for (const i of cells) {
        q[i] = s === 0 ? 0 : f32FromE4m3(e4m3FromF32(Math.fround(x[i]! / s)));
        deq[i] = q[i]! * s;
        scaleOf[i] = s;
      }
    }
  }
  return { q, deq, scaleOf };
}

/** Values whose magnitude swings by 10^±3 from tile to tile, plus one outlier. */
function wild(rows: number, cols: number, seed: number): Float32Array {
  const rng = new T.Rng(seed);
  const x = Float32Array.from(
    { length: rows * cols },
    (_, i) => rng.normal() * 10 ** (((Math.floor((i % cols) / 128) + Math.floor(i / cols)) % 7) - 3),
  );
  x[5] = 3e4;
  return x;
}

function transpose(x: ArrayLike<number>, rows: number, cols: number): Float64Array {
  const t = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) t[c * rows + r] = x[r * cols + c]!;
  return t;
}

test('1×128 tiles: bit-exact with a hand-written quantiser, amax/448 scales, error ≤ half an e4m3 step', () => {
  const [rows, cols] = [3, 300];
  const x = wild(rows, cols, 1);
  const op = quantizeTiles(x, rows, cols);
  const ref = manualQuant(x, rows, cols, 1, 128);
  assert.deepEqual(Array.from(operandValues(op)), Array.from(ref.q), 'e4m3 values');
  assert.equal(op.scale.length, rows * 3);
  for (let r = 0; r < rows; r++)
    for (let c = 0; c < 3; c++) assert.equal(op.scale[r * 3 + c], ref.scaleOf[r * cols + c * 128], `scale ${r},${c}`);
  const deq = dequantizeOperand(op);
  for (let i = 0; i < x.length; i++) {
    const s = ref.scaleOf[i]!;
    // Normal e4m3: relative error ≤ 2^-4; subnormal: absolute ≤ half the 2^-9 step, times the scale.
    const bound = Math.max(2 ** -4 * Math.abs(x[i]!), 2 ** -10 * s) * (1 + 1e-6);
    assert.ok(Math.abs(deq[i]! - x[i]!) <= bound, `element ${i}: ${x[i]} → ${deq[i]}`);
    assert.ok(Math.abs(operandValues(op)[i]!) <= 448);
  }
  // The largest magnitude of each tile lands on ±448 and comes back (to f32 rounding of the scale).
  assert.equal(Math.abs(operandValues(op)[5]!), 448);
  assert.ok(Math.abs(deq[5]! - 3e4) / 3e4 < 1e-6);
  // The outlier coarsens only its own tile: the next tile of row 0 keeps 2^-4 relative accuracy.
  for (let i = 128; i < 256; i++)
    if (Math.abs(x[i]!) > 2 ** -6 * 448 * ref.scaleOf[i]!) assert.ok(Math.abs(deq[i]! - x[i]!) <= 2 ** -4 * Math.abs(x[i]!) * (1 + 1e-6));
  // All-zero tiles quantise to zeros with a zero scale (no NaN).
  const z = quantizeTiles(new Float32Array(130), 1, 130);
  assert.ok(z.q.every((v) => v === 0) && z.scale.every((v) => v === 0));
  // Odd tiles match the codec path bit for bit too: ±∞, NaN, f32-subnormal magnitudes, −0, ties.
  const odd = new Float32Array(5 * 128);
  const r2 = new T.Rng(3);
  for (let i = 0; i < odd.length; i++) odd[i] = r2.normal();
  odd[3] = Infinity;
  odd[130] = NaN;
  for (let i = 256; i < 384; i++) odd[i] = r2.normal() * 1e-40;
  odd[400] = -0;
  for (let i = 512; i < 640; i++) odd[i] = ((i % 9) - 4) * 0.5; // amax 2 → s = 2/448: many exact ties
  const oq = quantizeTiles(odd, 1, odd.length);
  const oref = manualQuant(odd, 1, odd.length, 1, 128);
  assert.deepEqual(Array.from(operandValues(oq)), Array.from(oref.q));
});

test('128×128 blocks and 128×1 (token-axis) tiles: bit-exact with the hand-written quantiser', () => {
  const [rows, cols] = [200, 150];
  const w = wild(rows, cols, 2);
  const qb = quantizeBlocks(w, rows, cols);
  const ref = manualQuant(w, rows, cols, 128, 128);
  assert.deepEqual(Array.from(qb.q), Array.from(ref.q));
  assert.deepEqual(
    Array.from(qb.blockScale),
    [0, 128].flatMap((r) => [0, 128].map((c) => ref.scaleOf[r * cols + c]!)),
  );
  for (let i = 0; i < w.length; i++)
    assert.ok(Math.abs(ref.deq[i]! - w[i]!) <= Math.max(2 ** -4 * Math.abs(w[i]!), 2 ** -10 * ref.scaleOf[i]!) * (1 + 1e-6));
  // As a forward operand and transposed (Dgrad): the same values, no second rounding.
  assert.deepEqual(Array.from(dequantizeOperand(blockOperand(qb))), Array.from(ref.deq, Math.fround));
  assert.deepEqual(Array.from(dequantizeOperand(blockOperandTransposed(qb))), Array.from(transpose(ref.deq, rows, cols), Math.fround));
  // Token-axis tiles: groups of 128 rows × 1 column, returned transposed.
  const t = quantizeTilesTransposed(w, rows, cols);
  const refT = manualQuant(w, rows, cols, 128, 1);
  assert.deepEqual([t.rows, t.cols], [cols, rows]);
  assert.deepEqual(Array.from(operandValues(t)), Array.from(transpose(refT.q, rows, cols)));
});

/** y = x·Wᵀ in f64 from plain arrays. */
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

function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num += (a[i]! - b[i]!) ** 2;
    den += b[i]! ** 2;
  }
  return Math.sqrt(num / den);
}

test('fp8Linear: forward and both backward GEMMs equal the manual fake-quant computation; close to f32', () => {
  // Partial tiles and blocks on every axis: 150 tokens, K = 200, N = 136.
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
  const fp8 = run(fp8Linear);
  const f32 = run(T.linear);

  // Manual: Fprop x(1×128 along K)·W(128×128)ᵀ; Dgrad dy(1×128 along N)·W(same blocks);
  // Wgrad dyᵀ(128×1 along tokens)·x(128×1 along tokens).
  const xq = manualQuant(X, M, K, 1, 128).deq;
  const wq = manualQuant(W, N, K, 128, 128).deq;
  const yRef = gemmNT(xq, wq, M, N, K).map((v, i) => v + bias[i % N]!);
  const gq = manualQuant(G, M, N, 1, 128).deq;
  const dxRef = gemmNT(gq, transpose(wq, N, K), M, K, N);
  const gqT = transpose(manualQuant(G, M, N, 128, 1).deq, M, N); // [N, M]
  const xqT = transpose(manualQuant(X, M, K, 128, 1).deq, M, K); // [K, M]
  const dwRef = gemmNT(gqT, xqT, N, K, M);

  for (const [name, got, want] of [
    ['y', fp8.y, yRef],
    ['dx', fp8.dx, dxRef],
    ['dw', fp8.dw, dwRef],
  ] as const) {
    // Same quantised operands; only f32 accumulation order separates the two.
    assert.ok(relErr(got, want) < 2e-6, `${name}: ${relErr(got, want)} from the manual FP8 computation`);
  }
  assert.deepEqual(Array.from(fp8.db), Array.from(f32.db), 'bias gradient stays f32');
  const gaps = { y: relErr(fp8.y, f32.y), dx: relErr(fp8.dx, f32.dx), dw: relErr(fp8.dw, f32.dw) };
  for (const [name, e] of Object.entries(gaps)) assert.ok(e > 1e-3 && e < 0.05, `${name}: FP8 vs f32 relative error ${e}`);
  console.log(`FP8 vs f32 relative error: y ${gaps.y.toExponential(2)}, dx ${gaps.dx.toExponential(2)}, dW ${gaps.dw.toExponential(2)}`);
});

/** Counts recorded ops by name in the graph below `root`. */
function opCounts(root: T.Tensor): Map<string, number> {
  const counts = new Map<string, number>();
  const seen = new Set<T.Tensor>();
  const stack = [root];
  while (stack.length) {
    const t = stack.pop()!;
    if (seen.has(t) || !t.gradFn) continue;
    seen.add(t);
    counts.set(t.gradFn.op, (counts.get(t.gradFn.op) ?? 0) + 1);
    stack.push(...t.gradFn.inputs);
  }
  return counts;
}

test('FP8 mode: exactly the block projections switch; embedding, head, router stay f32; mode is scoped', () => {
  const c = loadConfig(fixture('models', 'deepseek_v3_tiny', 'config.json'));
  const m = buildModel(c, initWeights(c, 7));
  const rng = new T.Rng(8);
  const ids = T.Tensor.from(
    Array.from({ length: 2 * 9 }, () => rng.int(c.vocabSize)),
    [2, 9],
    'i32',
  );
  const cfg = { mtpWeight: 0.3, balanceAlpha: 1e-3 };
  const fp8 = withPrecision('fp8', () => lmObjective(m, ids, cfg));
  const f32 = withPrecision('f32', () => lmObjective(m, ids, cfg));
  const plain = lmObjective(m, ids, cfg);
  assert.equal(f32.total.item(), plain.total.item(), 'f32 mode is the plain model');
  assert.notEqual(fp8.total.item(), f32.total.item());
  assert.ok(Math.abs(fp8.total.item() - f32.total.item()) / f32.total.item() < 0.01);

  const ops8 = opCounts(fp8.total);
  const ops32 = opCounts(f32.total);
  assert.equal(ops32.get('fp8Linear') ?? 0, 0);
  // Block linears: MLA has q_a, q_b, kv_a, kv_b, o (5) per block; a dense FFN 3; an MoE layer 3 per
  // expert that got tokens plus 3 for the shared expert. 3 main blocks + 1 MTP block.
  const blocks = [...m.layers, ...m.mtp.map((x) => x.block)];
  const routed = new Map(fp8.routings.map((r) => [r.layer, r.routing]));
  let expected = 0;
  blocks.forEach((_, i) => {
    expected += 5;
    const routing = routed.get(i);
    expected += routing ? 3 * (routing.load.filter((n) => n > 0).length + 1) : 3;
  });
  assert.equal(ops8.get('fp8Linear'), expected);
  // What stays f32 goes through matmul: the head (main + MTP), the 3 routers, the MTP eh_proj.
  assert.equal(ops8.get('matmul'), 2 + 3 + 1);
  assert.equal(ops32.get('matmul'), 2 + 3 + 1 + expected);
  // Outside withPrecision the projection is plain again.
  const x = T.Tensor.from([1, 2, 3, 4], [1, 4]);
  const w = T.Tensor.from([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8], [2, 4]).requireGrad();
  assert.equal(projection(x, w).gradFn!.op, 'reshape');
  assert.equal(withPrecision('fp8', () => projection(x, w)).gradFn!.op, 'fp8Linear');
});

/** Minimal AdamW over every leaf that requires grad (the test's own; no dependency on the trainer). */
function adamw(params: T.Tensor[], lr: number) {
  const m = params.map((p) => new Float32Array(p.size));
  const v = params.map((p) => new Float32Array(p.size));
  let step = 0;
  return () => {
    step++;
    const [b1, b2, eps, wd] = [0.9, 0.95, 1e-8, 0.1];
    params.forEach((p, i) => {
      if (!p.grad) return;
      const g = T.floatData(p.grad);
      const d = p.data as Float32Array;
      const mi = m[i]!;
      const vi = v[i]!;
      for (let j = 0; j < d.length; j++) {
        mi[j] = b1 * mi[j]! + (1 - b1) * g[j]!;
        vi[j] = b2 * vi[j]! + (1 - b2) * g[j]! * g[j]!;
        const mh = mi[j]! / (1 - b1 ** step);
        const vh = vi[j]! / (1 - b2 ** step);
        d[j] = d[j]! - lr * (mh / (Math.sqrt(vh) + eps) + (p.rank === 2 ? wd * d[j]! : 0));
      }
      p.grad = null;
    });
  };
}

test('training in FP8 tracks training in f32: same data, small relative loss gap', () => {
  // The tiny V3 fixture's shape with 2 layers and 8 experts, to keep 40 steps quick.
  const json = JSON.parse(readFileSync(fixture('models', 'deepseek_v3_tiny', 'config.json'), 'utf8')) as Record<string, unknown>;
  const c = parseConfig(
    { ...json, num_hidden_layers: 2, n_routed_experts: 8, num_experts_per_tok: 2, n_group: 1, topk_group: 1 },
    'fp8-train',
  );
  // A learnable stream: each row counts up from a random start, modulo 64.
  const rng = new T.Rng(31);
  const batches = Array.from({ length: 20 }, () => {
    const rows = Array.from({ length: 4 }, () => {
      const s = rng.int(64);
      return Array.from({ length: 17 }, (_, i) => (s + i) % 64);
    });
    return T.Tensor.from(rows.flat(), [4, 17], 'i32');
  });
  const train = (p: 'f32' | 'fp8') => {
    const w = initWeights(c, 17);
    const m = buildModel(c, w);
    const step = adamw(
      w
        .names()
        .map((n) => w.get(n))
        .filter((t) => t.requiresGrad),
      3e-3,
    );
    const losses: number[] = [];
    for (const ids of batches) {
      const r = withPrecision(p, () => {
        const r = lmObjective(m, ids, { mtpWeight: 0.3, balanceAlpha: 1e-4 });
        T.backward(r.total);
        return r;
      });
      step();
      losses.push(r.ce);
    }
    return losses;
  };
  const l32 = train('f32');
  const l8 = train('fp8');
  const tail = (l: number[]) => l.slice(-5).reduce((a, b) => a + b) / 5;
  assert.ok(tail(l32) < 0.6 * l32[0]!, `f32 learns: ${l32[0]} → ${tail(l32)}`);
  const gap = Math.abs(tail(l8) - tail(l32)) / tail(l32);
  console.log(
    `CE after 20 steps: f32 ${tail(l32).toFixed(4)}, fp8 ${tail(l8).toFixed(4)} (relative gap ${(gap * 100).toFixed(2)}%); start ${l32[0]!.toFixed(3)}`,
  );
  assert.ok(gap < 0.03, `relative loss gap ${gap}`);
});
