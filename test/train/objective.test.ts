// The pre-training objective: next-token CE against a direct computation, MTP target alignment on a
// hand-written example (and no look-ahead past the causal chain), and the sequence-wise balance loss
// against eqs. 17–20 written out by hand, with its gradient to the router by finite differences.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseConfig, type ModelConfig } from '../../src/io/config.ts';
import { initWeights } from '../../src/model/init.ts';
import { buildModel } from '../../src/model/registry.ts';
import { Router, type Routing, type MoeDims } from '../../src/model/moe.ts';
import { MapWeights } from '../../src/model/weights.ts';
import { bias as biasDecl, matrix } from '../../src/model/declare.ts';
import * as T from '../../src/tensor/index.ts';
import { lmObjective } from '../../src/train/objective.ts';
import { moeLayerRefs, sequenceBalanceLoss } from '../../src/train/balance.ts';
import { fixture } from '../helpers/fixtures.ts';
import { gradcheck, randn } from '../helpers/gradcheck.ts';

/** The tiny V3 fixture's shape, with `depth` MTP modules. */
function tinyV3(depth: number): ModelConfig {
  const json = JSON.parse(readFileSync(fixture('models', 'deepseek_v3_tiny', 'config.json'), 'utf8')) as Record<string, unknown>;
  return parseConfig({ ...json, num_nextn_predict_layers: depth }, 'tiny-v3-mtp');
}

/** −log softmax(row)[target], in f64. */
function nll(row: ArrayLike<number>, target: number): number {
  let m = -Infinity;
  for (let i = 0; i < row.length; i++) m = Math.max(m, row[i]!);
  let s = 0;
  for (let i = 0; i < row.length; i++) s += Math.exp(row[i]! - m);
  return m + Math.log(s) - row[target]!;
}

/** Mean NLL of rows (b, i) of logits [B, L, V] against the given targets[b][i]. */
function handCe(logits: T.Tensor, targets: number[][]): number {
  const [, L, V] = logits.shape as [number, number, number];
  const d = T.floatData(logits);
  let s = 0;
  let n = 0;
  targets.forEach((row, b) => {
    assert.equal(row.length, L, 'one target per logits row');
    row.forEach((t, i) => {
      s += nll(d.subarray((b * L + i) * V, (b * L + i + 1) * V), t);
      n++;
    });
  });
  return s / n;
}

test('CE part: mean next-token cross-entropy of inputs ids[:, :T] against ids[:, 1:]', () => {
  const c = tinyV3(1);
  const m = buildModel(c, initWeights(c, 11));
  const rng = new T.Rng(4);
  const rows = [0, 1].map(() => Array.from({ length: 9 }, () => rng.int(c.vocabSize)));
  const ids = T.Tensor.from(rows.flat(), [2, 9], 'i32');
  const r = lmObjective(m, ids, { mtpWeight: 0, balanceAlpha: 0 });
  const logits = T.noGrad(() => m.forward(T.Tensor.from(rows.map((x) => x.slice(0, 8)).flat(), [2, 8], 'i32')).logits!);
  const expected = handCe(
    logits,
    rows.map((x) => x.slice(1)),
  );
  assert.ok(Math.abs(r.ce - expected) < 1e-5, `${r.ce} vs ${expected}`);
  assert.equal(r.total.item(), r.ce, 'with λ = α = 0 the total is the CE');
  assert.deepEqual(r.mtp, []);
  assert.equal(r.balance, 0);
});

test('MTP: depth k at position i predicts token i+k+1 (hand-written targets), λ/D weighting', () => {
  const c = tinyV3(2);
  const m = buildModel(c, initWeights(c, 12));
  assert.equal(m.mtp.length, 2);
  // One row of T+1 = 6 tokens: inputs 10..14, and:
  //   main     rows 0..4 predict 11 12 13 14 15
  //   depth 1  rows 0..3 predict    12 13 14 15   (row i sees tokens ≤ i+1, predicts i+2)
  //   depth 2  rows 0..2 predict       13 14 15   (row i sees tokens ≤ i+2, predicts i+3)
  const ids = T.Tensor.from([10, 11, 12, 13, 14, 15], [1, 6], 'i32');
  const cfg = { mtpWeight: 0.3, balanceAlpha: 0 };
  const r = lmObjective(m, ids, cfg);
  const inputs = T.Tensor.from([10, 11, 12, 13, 14], [1, 5], 'i32');
  const { d1, d2 } = T.noGrad(() => {
    const f = m.forward(inputs);
    const [d1, d2] = m.mtpLogits(inputs, f.final).logits as [T.Tensor, T.Tensor];
    return { d1, d2 };
  });
  assert.deepEqual([...d1.shape], [1, 4, c.vocabSize]);
  assert.deepEqual([...d2.shape], [1, 3, c.vocabSize]);
  assert.equal(r.mtp.length, 2);
  assert.ok(Math.abs(r.mtp[0]! - handCe(d1, [[12, 13, 14, 15]])) < 1e-5);
  assert.ok(Math.abs(r.mtp[1]! - handCe(d2, [[13, 14, 15]])) < 1e-5);
  // A shifted alignment gives a different number (the check above can fail).
  assert.ok(Math.abs(r.mtp[0]! - handCe(d1, [[11, 12, 13, 14]])) > 1e-4);
  const expectedTotal = r.ce + (0.3 / 2) * (r.mtp[0]! + r.mtp[1]!);
  assert.ok(Math.abs(r.total.item() - expectedTotal) < 1e-5, `${r.total.item()} vs ${expectedTotal}`);
});

test('MTP keeps the causal chain: depth-k row i depends on tokens ≤ i+k only', () => {
  const c = tinyV3(2);
  const m = buildModel(c, initWeights(c, 13));
  const run = (toks: number[]) =>
    T.noGrad(() => {
      const ids = T.Tensor.from(toks, [1, toks.length], 'i32');
      return m.mtpLogits(ids, m.forward(ids).final).logits.map((t) => T.floatData(t));
    });
  const V = c.vocabSize;
  const base = [5, 6, 7, 8, 9, 10, 11, 12];
  const a = run(base);
  const changed = [...base];
  changed[4] = 99; // token 4: visible to depth-1 rows ≥ 3 and depth-2 rows ≥ 2 only
  const b = run(changed);
  const rowDiff = (x: Float32Array | Float64Array, y: Float32Array | Float64Array, i: number) => {
    let d = 0;
    for (let v = 0; v < V; v++) d = Math.max(d, Math.abs(x[i * V + v]! - y[i * V + v]!));
    return d;
  };
  // Rows that cannot see the change may still move by f32 rounding (other rows' tokens change how
  // work is batched); leakage would move them by O(0.1).
  for (let i = 0; i < 7; i++) {
    const moved = rowDiff(a[0]!, b[0]!, i) > 1e-4;
    assert.equal(moved, i + 1 >= 4, `depth 1 row ${i}`);
  }
  for (let i = 0; i < 6; i++) {
    const moved = rowDiff(a[1]!, b[1]!, i) > 1e-4;
    assert.equal(moved, i + 2 >= 4, `depth 2 row ${i}`);
  }
});

/** Eqs. 17–20 written out with loops, in f64, for scores given as plain rows. */
function handBalance(scores: number[][], topk: number[][], batch: number, alpha: number): number {
  const N = scores.length;
  const E = scores[0]!.length;
  const Tn = N / batch;
  const K = topk[0]!.length;
  let total = 0;
  for (let b = 0; b < batch; b++) {
    let l = 0;
    for (let i = 0; i < E; i++) {
      let count = 0;
      let p = 0;
      for (let t = 0; t < Tn; t++) {
        const row = scores[b * Tn + t]!;
        if (topk[b * Tn + t]!.includes(i)) count++;
        p += row[i]! / row.reduce((x, y) => x + y, 0);
      }
      const f = (E / (K * Tn)) * count;
      l += f * (p / Tn);
    }
    total += alpha * l;
  }
  return total / batch;
}

test('sequence-wise balance loss: eqs. 17–20 on a small routing, and d/d scores by finite differences', () => {
  // 2 sequences × 3 tokens, 4 experts, top-2.
  const scores = [
    [0.9, 0.8, 0.1, 0.2],
    [0.7, 0.6, 0.3, 0.1],
    [0.2, 0.9, 0.8, 0.1],
    [0.1, 0.2, 0.3, 0.9],
    [0.5, 0.1, 0.2, 0.8],
    [0.3, 0.3, 0.9, 0.6],
  ];
  const topk = [
    [0, 1],
    [0, 1],
    [1, 2],
    [3, 2],
    [3, 0],
    [2, 3],
  ];
  const routing = (s: T.Tensor): Routing => ({ scores: s, indices: Int32Array.from(topk.flat()), load: new Int32Array(4) });
  const s = T.Tensor.from(scores.flat(), [6, 4], 'f64');
  const got = sequenceBalanceLoss(routing(s), 2, 0.01).item();
  const want = handBalance(scores, topk, 2, 0.01);
  assert.ok(Math.abs(got - want) < 1e-12, `${got} vs ${want}`);
  // Perfectly balanced routing with uniform scores gives α exactly (Σ_i f_i P_i = N_r · 1 · 1/N_r).
  const uniform = T.Tensor.full([4, 4], 0.5, 'f64');
  const even: Routing = { scores: uniform, indices: Int32Array.from([0, 1, 2, 3, 0, 1, 2, 3]), load: new Int32Array(4) };
  assert.ok(Math.abs(sequenceBalanceLoss(even, 1, 0.01).item() - 0.01) < 1e-15);
  gradcheck((x) => sequenceBalanceLoss(routing(x), 2, 0.01), [T.Tensor.from(scores.flat(), [6, 4], 'f64')]);
});

test('balance loss reaches the router weight: finite differences through sigmoid scores and top-k', () => {
  const dims: MoeDims = {
    nRoutedExperts: 8,
    numExpertsPerTok: 2,
    nGroup: 4,
    topkGroup: 2,
    topkMethod: 'noaux_tc',
    scoringFunc: 'sigmoid',
    normTopkProb: true,
    routedScalingFactor: 2.5,
  };
  const x = randn([3 * 5, 6], 21);
  const w0 = randn([8, 6], 22, 0.5);
  const bias = T.Tensor.from([0.1, -0.1, 0, 0.05, 0, 0, -0.05, 0.02], [8], 'f32');
  gradcheck(
    (w) => {
      const weights = new MapWeights(
        new Map([
          ['gate.weight', w],
          ['gate.e_score_correction_bias', bias],
        ]),
      );
      const router = new Router(
        weights,
        { weight: matrix('gate.weight', 8, 6, 'router'), bias: biasDecl('gate.e_score_correction_bias', 8, 'correctionBias') },
        dims,
      );
      return sequenceBalanceLoss(router.route(x).routing, 3, 0.1);
    },
    [w0],
  );
});

test('lmObjective balance term: mean (or sum) over every MoE layer (main and MTP) of the per-layer loss', () => {
  const c = tinyV3(1);
  const w = initWeights(c, 14);
  const m = buildModel(c, w);
  const rng = new T.Rng(9);
  const ids = T.Tensor.from(
    Array.from({ length: 3 * 11 }, () => rng.int(c.vocabSize)),
    [3, 11],
    'i32',
  );
  const alpha = 0.05;
  const r = lmObjective(m, ids, { mtpWeight: 0.3, balanceAlpha: alpha });
  const refs = moeLayerRefs(m);
  assert.deepEqual(
    refs.map((x) => x.layer),
    [1, 2, 3],
    'two main MoE layers and the MTP block',
  );
  assert.deepEqual(
    r.routings.map((x) => x.layer),
    [1, 2, 3],
    "the forward returns every MoE block's routing",
  );
  const perLayer = r.routings.map(({ routing }) => {
    const E = routing.scores.shape[1]!;
    const sd = T.floatData(routing.scores);
    const N = sd.length / E;
    const rows = Array.from({ length: N }, (_, n) => Array.from(sd.subarray(n * E, (n + 1) * E)));
    const K = routing.indices.length / N;
    const tk = Array.from({ length: N }, (_, n) => Array.from(routing.indices.subarray(n * K, (n + 1) * K)));
    return handBalance(rows, tk, 3, alpha);
  });
  // The MTP block routes T − 1 tokens per sequence; the main ones T.
  assert.equal(r.routings[2]!.routing.scores.shape[0], 3 * 9);
  const want = perLayer.reduce((a, b) => a + b) / perLayer.length;
  assert.ok(Math.abs(r.balance - want) < 1e-7, `${r.balance} vs ${want}`);
  const expectedTotal = r.ce + 0.3 * r.mtp[0]! + r.balance;
  assert.ok(Math.abs(r.total.item() - expectedTotal) < 1e-5);
  // DeepSeek-V3's L_Bal is per layer and the layers' losses add up: 'sum' (the V3 recipe's default).
  const summed = lmObjective(m, ids, { mtpWeight: 0.3, balanceAlpha: alpha, balanceReduction: 'sum' });
  const wantSum = perLayer.reduce((a, b) => a + b);
  assert.ok(Math.abs(summed.balance - wantSum) < 1e-7, `${summed.balance} vs ${wantSum}`);
  // The balance term's gradient reaches every router (scores stay in the graph).
  T.backward(r.total);
  for (const { layer } of refs) assert.ok(w.get(`model.layers.${layer}.mlp.gate.weight`).grad, `router ${layer}`);
});
