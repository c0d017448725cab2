// The DeepSeek-V3 recipe (issue 9 item 11): λ 0.3 then 0.1, γ 0.001 then 0 for the last stretch, the
// balance loss summed over layers, a batch-size ramp, init σ 0.006 and the final constant LR stages —
// each available on its own, and the defaults when a run says "recipe": "deepseek-v3".
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { parseRunConfig, runConfigJson } from '../../src/train/config/run-config.ts';
import { accumAt } from '../../src/train/config/recipe.ts';
import { learningRate, stagedValue, V3_SCHEDULE } from '../../src/train/schedule.ts';
import { Trainer } from '../../src/train/trainer.ts';
import { TrainError } from '../../src/train/errors.ts';
import { tempDir, tinyRun } from './helpers.ts';

const close = (a: number, b: number) => Math.abs(a - b) <= 1e-12 * Math.max(1, Math.abs(b));

test('the deepseek-v3 schedule: peak, cosine to 10%, then two constant stages (report §4.2)', () => {
  const s = { kind: 'deepseek-v3' as const, warmup: 20, ...V3_SCHEDULE };
  const peak = 2.2e-4;
  const total = 14800; // one step per billion tokens: the report's token counts read as steps
  assert.ok(close(learningRate(s, peak, 9, total), peak / 2), 'warmup');
  assert.equal(learningRate(s, peak, 5000, total), peak, 'constant until 10T');
  assert.equal(learningRate(s, peak, 9999, total), peak);
  const mid = learningRate(s, peak, 12150, total); // half-way through the 4.3T decay
  assert.ok(close(mid, 2.2e-5 + (peak - 2.2e-5) / 2), `mid-decay ${mid}`);
  assert.ok(close(learningRate(s, peak, 14400, total), 2.2e-5), '2.2e-5 for 333B tokens');
  assert.ok(close(learningRate(s, peak, 14700, total), 7.3e-6), '7.3e-6 for the last 167B');
});

test('staged values: λ 0.3 for the first 10T of 14.8T tokens, then 0.1; γ 0 for the last 500B', (t) => {
  const dir = tempDir(t);
  const cfg = parseRunConfig(tinyRun(dir, { recipe: 'deepseek-v3', steps: 1480, gradAccum: 10, schedule: { warmup: 2 } }), 'test', dir);
  assert.equal(stagedValue(cfg.mtpWeight, 999, 1480), 0.3);
  assert.equal(stagedValue(cfg.mtpWeight, 1000, 1480), 0.1);
  assert.equal(stagedValue(cfg.biasUpdate.gamma, 1429, 1480), 0.001);
  assert.equal(stagedValue(cfg.biasUpdate.gamma, 1430, 1480), 0);
  assert.equal(cfg.balanceReduction, 'sum');
  assert.equal(cfg.initStd, 0.006);
  assert.equal(cfg.schedule.kind, 'deepseek-v3');
  // 3072 → 15360 sequences over 469B of 14.8T tokens: 2 → 10 micro-batches over the first 47 steps.
  assert.deepEqual(cfg.batchRamp, { startAccum: 2, steps: 47 });
  assert.equal(accumAt(cfg.batchRamp, 10, 0), 2);
  assert.equal(accumAt(cfg.batchRamp, 10, 47), 10);
  assert.ok(accumAt(cfg.batchRamp, 10, 24) > 2 && accumAt(cfg.batchRamp, 10, 24) < 10);
  // What a checkpoint stores parses back to the same config (resume keeps the recipe's values).
  assert.deepEqual(parseRunConfig(runConfigJson(cfg), 'test', dir), cfg);

  // Without the recipe the plain defaults hold; each piece can be asked for on its own.
  const plain = parseRunConfig(tinyRun(dir), 'test', dir);
  assert.deepEqual(
    [plain.mtpWeight, plain.biasUpdate.gamma, plain.balanceReduction, plain.initStd, plain.batchRamp],
    [0.3, 0.001, 'mean', null, null],
  );
  const mixed = parseRunConfig(
    tinyRun(dir, {
      recipe: 'deepseek-v3',
      initStd: 0.02,
      batchRamp: null,
      mtpWeight: [
        { from: 0, value: 1 },
        { from: 0.5, value: 0 },
      ],
    }),
    'test',
    dir,
  );
  assert.deepEqual(
    [mixed.initStd, mixed.batchRamp, stagedValue(mixed.mtpWeight, 3, 8), stagedValue(mixed.mtpWeight, 4, 8)],
    [0.02, null, 1, 0],
  );
  assert.throws(() => parseRunConfig(tinyRun(dir, { mtpWeight: [{ from: 0.2, value: 1 }] }), 'test', dir), TrainError);
});

test('a V3-recipe run: smaller steps while the batch ramps, init σ 0.006', (t) => {
  const dir = tempDir(t);
  const raw = tinyRun(dir, {
    recipe: 'deepseek-v3',
    steps: 6,
    gradAccum: 3,
    batchSize: 2,
    batchRamp: { startAccum: 1, steps: 2 },
    eval: { interval: 0 },
    schedule: { kind: 'deepseek-v3', warmup: 1 },
  });
  const tr = Trainer.create({ config: parseRunConfig(raw, 'test', dir) });
  try {
    const tokens = [1, 2, 3, 4].map(() => tr.trainStep().tokens);
    const perStep = tokens.map((n, i) => n - (tokens[i - 1] ?? 0));
    assert.deepEqual(
      perStep,
      [1, 2, 3, 3].map((a) => a * 2 * 16),
    );
    const fresh = Trainer.create({ config: parseRunConfig({ ...raw, out: join(dir, 'fresh') }, 'test', dir) });
    const d = fresh.weights.get('model.layers.0.self_attn.kv_b_proj.weight').data as Float32Array;
    const std = Math.sqrt(d.reduce((a, v) => a + v * v, 0) / d.length);
    fresh.close();
    assert.ok(Math.abs(std - 0.006) < 0.0015, `init σ ${std}`);
  } finally {
    tr.close();
  }
});
