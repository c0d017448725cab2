// Random initialisation: the HF tensor set of every family (names and shapes as in the fixture
// checkpoints, plus DeepSeek-V3's MTP module), HF's distributions, determinism, the parameter count
// of model/params.ts, and a model that trains: every leaf gets a gradient from the full objective.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig, type ModelConfig } from '../../src/io/config.ts';
import { openSafetensors } from '../../src/io/safetensors/index.ts';
import { initWeights } from '../../src/model/init.ts';
import { buildModel } from '../../src/model/registry.ts';
import { countParams } from '../../src/model/params.ts';
import * as T from '../../src/tensor/index.ts';
import { lmObjective } from '../../src/train/objective.ts';
import { fixture } from '../helpers/fixtures.ts';

const FAMILIES = ['deepseek_v3_tiny', 'deepseek_v2_tiny', 'llama_tiny', 'qwen2_tiny'] as const;

function config(model: string): ModelConfig {
  return loadConfig(fixture('models', model, 'config.json'));
}

function randomIds(vocab: number, B: number, L: number, seed: number): T.Tensor {
  const rng = new T.Rng(seed);
  return T.Tensor.from(
    Array.from({ length: B * L }, () => rng.int(vocab)),
    [B, L],
    'i32',
  );
}

for (const model of FAMILIES) {
  test(`${model}: the same tensor names and shapes as the released-format checkpoint`, () => {
    const c = config(model);
    const w = initWeights(c, 1);
    const f = openSafetensors(fixture('models', model, 'model.safetensors'));
    try {
      const stored = new Map(f.names().map((n) => [n, f.read(n).shape]));
      // The fixture checkpoints carry no MTP module; ours adds it after the main layers (V3 only).
      const mtpLayers = c.modelType === 'deepseek_v3' ? c.numNextnPredictLayers : 0;
      const isMtp = (n: string) =>
        Array.from({ length: mtpLayers }, (_, k) => `model.layers.${c.numHiddenLayers + k}.`).some((p) => n.startsWith(p));
      const ours = w
        .names()
        .filter((n) => !isMtp(n))
        .sort();
      assert.deepEqual(ours, [...stored.keys()].sort());
      for (const n of ours) assert.deepEqual([...w.get(n).shape], [...stored.get(n)!], n);
      if (mtpLayers > 0) {
        const p = `model.layers.${c.numHiddenLayers}`;
        assert.deepEqual([...w.get(`${p}.eh_proj.weight`).shape], [c.hiddenSize, 2 * c.hiddenSize]);
        for (const n of ['enorm', 'hnorm', 'shared_head.norm']) assert.deepEqual([...w.get(`${p}.${n}.weight`).shape], [c.hiddenSize]);
        assert.ok(w.maybe(`${p}.self_attn.kv_b_proj.weight`) && w.maybe(`${p}.mlp.gate.weight`), 'MTP block is a full decoder block');
        assert.equal(w.maybe(`${p}.embed_tokens.weight`), undefined, 'embedding is shared, not duplicated');
        assert.equal(w.maybe(`${p}.shared_head.head.weight`), undefined, 'head is shared, not duplicated');
      }
    } finally {
      f.close();
    }
  });

  test(`${model}: parameter count equals model/params.ts`, () => {
    const c = config(model);
    const w = initWeights(c, 1);
    const p = countParams(c);
    let all = 0;
    let trainable = 0;
    for (const n of w.names()) {
      const t = w.get(n);
      all += t.size;
      if (t.requiresGrad) trainable += t.size;
    }
    assert.equal(all, p.total + p.correctionBias + p.mtp);
    // `total` leaves the main layers' correction biases out already (buffers in transformers); `mtp` includes its own.
    assert.equal(trainable, p.total + p.mtp - p.mtpCorrectionBias);
  });
}

test('HF init: Normal(0, initializer_range) matrices, ones for norms, zero router bias without grad; seeded', () => {
  const c = config('deepseek_v3_tiny');
  const a = initWeights(c, 1);
  const b = initWeights(c, 1);
  const d = initWeights(c, 2);
  for (const n of a.names()) assert.deepEqual(T.floatData(a.get(n)), T.floatData(b.get(n)), `${n} differs for the same seed`);
  assert.notDeepEqual(T.floatData(a.get('lm_head.weight')), T.floatData(d.get('lm_head.weight')));
  for (const n of a.names()) {
    const t = a.get(n);
    assert.equal(t.dtype, 'f32');
    const v = T.floatData(t);
    if (n.endsWith('e_score_correction_bias')) {
      assert.equal(t.requiresGrad, false, `${n} is moved by the balancer, not by gradients`);
      assert.ok(v.every((x) => x === 0));
    } else if (n.endsWith('norm.weight') || n.endsWith('layernorm.weight')) {
      assert.ok(t.requiresGrad && v.every((x) => x === 1), n);
    } else {
      assert.ok(t.requiresGrad && t.rank === 2, n);
    }
  }
  // The pooled matrix entries have the configured standard deviation and zero mean.
  let s = 0;
  let s2 = 0;
  let count = 0;
  for (const n of a.names()) {
    const t = a.get(n);
    if (t.rank !== 2) continue;
    for (const x of T.floatData(t)) {
      s += x;
      s2 += x * x;
      count++;
    }
  }
  const std = Math.sqrt(s2 / count - (s / count) ** 2);
  assert.ok(Math.abs(std - c.initializerRange) < 0.01 * c.initializerRange, `std ${std}`);
  assert.ok(Math.abs(s / count) < 1e-3 * c.initializerRange * 10, `mean ${s / count}`);
});

for (const model of FAMILIES) {
  test(`${model}: builds, and one backward of the full objective reaches every trainable leaf`, () => {
    const c = config(model);
    const w = initWeights(c, 3);
    const m = buildModel(c, w);
    if (c.modelType === 'deepseek_v3') assert.equal(m.mtp.length, c.numNextnPredictLayers);
    const ids = randomIds(c.vocabSize, 2, 17, 5);
    const r = lmObjective(m, ids, { mtpWeight: 0.3, balanceAlpha: 0.01 });
    assert.ok(Number.isFinite(r.total.item()));
    // A fresh model predicts near-uniformly: CE ≈ ln V.
    assert.ok(Math.abs(r.ce - Math.log(c.vocabSize)) < 0.1, `ce ${r.ce}`);
    T.backward(r.total);
    // Experts no token chose get no gradient (as in PyTorch); collect them from the routings.
    const idle = new Set<string>();
    for (const { layer, routing } of r.routings) {
      routing.load.forEach((n, e) => n === 0 && idle.add(`model.layers.${layer}.mlp.experts.${e}.`));
    }
    let checked = 0;
    for (const n of w.names()) {
      const t = w.get(n);
      if (!t.requiresGrad) continue;
      const isIdle = [...idle].some((p) => n.startsWith(p));
      if (isIdle) {
        assert.equal(t.grad, null, `${n}: idle expert got a gradient`);
        continue;
      }
      assert.ok(t.grad, `${n} got no gradient`);
      assert.ok(
        T.floatData(t.grad).some((x) => x !== 0),
        `${n} got an all-zero gradient`,
      );
      checked++;
    }
    assert.ok(checked > 10);
  });
}
