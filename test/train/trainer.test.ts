// The training loop on a tiny DeepSeek-V3: the loss falls on a repetitive corpus, every loss part
// and the expert loads are logged, the router bias moves only when the aux-loss-free update is on,
// gradient accumulation equals the larger batch, FP8 mode trains, and a run's folder is protected.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseRunConfig } from '../../src/train/config/run-config.ts';
import { Trainer, train } from '../../src/train/trainer.ts';
import { readMetrics, type EvalMetrics, type StepMetrics } from '../../src/train/metrics.ts';
import { TrainError } from '../../src/train/errors.ts';
import { loadModel } from '../../src/model/load.ts';
import * as T from '../../src/tensor/index.ts';
import { fixture } from '../helpers/fixtures.ts';
import { tempDir, tinyRun } from './helpers.ts';

test('the loss goes down and every part of it is logged', async (t) => {
  const dir = tempDir(t);
  const cfg = parseRunConfig(tinyRun(dir, { steps: 30, eval: { interval: 10, batches: 2 } }), 'test', dir);
  const progress: number[] = [];
  const result = await train({ config: cfg, progress: (p) => progress.push(p.step) });
  assert.equal(result.step, 30);
  assert.equal(result.interrupted, false);
  assert.equal(result.checkpoint, join(cfg.out, 'checkpoint-000030'));
  assert.deepEqual(
    progress,
    Array.from({ length: 30 }, (_, i) => i + 1),
  );
  const records = readMetrics(join(cfg.out, 'metrics.jsonl'));
  const steps = records.filter((r): r is StepMetrics => r.type === 'train');
  const evals = records.filter((r): r is EvalMetrics => r.type === 'eval');
  assert.equal(steps.length, 30);
  assert.deepEqual(
    evals.map((e) => e.step),
    [10, 20, 30],
  );
  const first = steps[0]!;
  const last = steps[29]!;
  assert.ok(last.ce < first.ce - 2, `cross-entropy ${first.ce} → ${last.ce}`);
  assert.ok(evals[2]!.loss < evals[0]!.loss, `eval loss ${evals.map((e) => e.loss)}`);
  assert.ok(Math.abs(evals[2]!.ppl - Math.exp(evals[2]!.loss)) < 1e-9);
  for (const m of steps) {
    assert.equal(m.mtp.length, 1, 'one MTP depth');
    assert.ok(Math.abs(m.loss - (m.ce + 0.3 * m.mtp[0]! + m.balance)) < 1e-5, `loss parts add up at step ${m.step}`);
    assert.ok(m.balance > 0 && m.gradNorm > 0 && m.lr > 0 && m.tokensPerSec > 0);
    assert.deepEqual(
      m.load.map((l) => l.layer),
      [1, 2],
      'the MoE layer and the MTP block',
    );
    for (const l of m.load) {
      // B·T·k / experts tokens per expert; the depth-1 MTP block routes T − 1 positions.
      assert.equal(l.mean, (4 * (l.layer === 1 ? 16 : 15) * 2) / 4, `layer ${l.layer} mean load`);
      assert.ok(l.max >= l.mean && Math.abs(l.maxOverMean - l.max / l.mean) < 1e-12);
    }
  }
  assert.equal(last.tokens, 30 * 4 * 16);
});

test('gradient accumulation: 2 micro-batches of 2 make the same step as one batch of 4', (t) => {
  const dir = tempDir(t);
  const raw = tinyRun(dir, { steps: 3, eval: { interval: 0 } });
  const big = Trainer.create({ config: parseRunConfig({ ...raw, out: join(dir, 'a') }, 'test', dir) });
  const acc = Trainer.create({ config: parseRunConfig({ ...raw, batchSize: 2, gradAccum: 2, out: join(dir, 'b') }, 'test', dir) });
  const mb = big.trainStep();
  const ma = acc.trainStep();
  assert.ok(Math.abs(mb.loss - ma.loss) < 1e-5, `loss ${mb.loss} vs ${ma.loss}`);
  assert.ok(Math.abs(mb.gradNorm - ma.gradNorm) < 1e-4 * mb.gradNorm, `grad norm ${mb.gradNorm} vs ${ma.gradNorm}`);
  assert.deepEqual(ma.load, mb.load, 'loads counted over both micro-batches');
  let worst = 0;
  for (const name of big.weights.names()) {
    const x = big.weights.get(name).data;
    const y = acc.weights.get(name).data;
    for (let i = 0; i < x.length; i++) worst = Math.max(worst, Math.abs((x[i] as number) - (y[i] as number)));
  }
  assert.ok(worst < 1e-5, `weights differ by ${worst} after one step`);
  big.close();
  acc.close();
});

test('the router bias moves by γ per step only when the aux-loss-free update is on', (t) => {
  const dir = tempDir(t);
  const bias = (tr: Trainer) => Array.from(tr.weights.get('model.layers.1.mlp.gate.e_score_correction_bias').data as Float32Array);
  const on = Trainer.create({ config: parseRunConfig(tinyRun(dir, { out: join(dir, 'on'), biasUpdate: { gamma: 0.01 } }), 'test', dir) });
  on.trainStep();
  assert.ok(
    bias(on).every((b) => Math.abs(Math.abs(b) - 0.01) < 1e-7 || b === 0),
    `${bias(on)}`,
  );
  assert.ok(bias(on).some((b) => b !== 0));
  on.close();
  const off = Trainer.create({
    config: parseRunConfig(tinyRun(dir, { out: join(dir, 'off'), biasUpdate: { enabled: false } }), 'test', dir),
  });
  off.trainStep();
  off.trainStep();
  assert.deepEqual(bias(off), [0, 0, 0, 0]);
  off.close();
});

test('FP8 precision trains', async (t) => {
  const dir = tempDir(t);
  const cfg = parseRunConfig(tinyRun(dir, { steps: 6, precision: 'fp8', eval: { interval: 0 } }), 'test', dir);
  const seen: StepMetrics[] = [];
  await train({ config: cfg, onStep: (m) => seen.push(m) });
  assert.equal(seen.length, 6);
  assert.ok(seen.every((m) => Number.isFinite(m.loss) && !m.skipped));
  assert.ok(seen[5]!.ce < seen[0]!.ce, `${seen[0]!.ce} → ${seen[5]!.ce}`);
});

test('a trained tokenizer: written to the run folder and every checkpoint; vocab_size from it', async (t) => {
  const dir = tempDir(t);
  const raw = tinyRun(dir, { steps: 3, eval: { interval: 0 }, tokenizer: { train: { vocabSize: 280 } } });
  const logs: string[] = [];
  const r = await train({ config: parseRunConfig(raw, 'test', dir), log: (l) => logs.push(l) });
  assert.ok(logs.some((l) => l.includes('training a 280-token BPE tokenizer')));
  const out = raw.out as string;
  assert.ok(existsSync(join(out, 'tokenizer.json')));
  const vocab = JSON.parse(readFileSync(join(r.checkpoint!, 'config.json'), 'utf8')).vocab_size;
  assert.ok(vocab > 256 && vocab <= 280, `vocab_size ${vocab}`);
  assert.equal(readFileSync(join(r.checkpoint!, 'tokenizer.json'), 'utf8'), readFileSync(join(out, 'tokenizer.json'), 'utf8'));
});

test('"splitDigits" trains a tokenizer that reads numbers digit by digit (DeepSeek-V3 groups up to three)', async (t) => {
  const dir = tempDir(t);
  // A corpus of sums: without the split, frequent numbers become tokens of their own.
  const lines = Array.from({ length: 600 }, (_, i) => `${100 + (i % 37)}+${i % 9}=${100 + (i % 37) + (i % 9)}`);
  writeFileSync(join(dir, 'sums.txt'), lines.join('\n\n'));
  const tokensOf = async (splitDigits: boolean) => {
    const out = join(dir, `run-${splitDigits}`);
    const raw = tinyRun(dir, {
      steps: 1,
      schedule: { kind: 'constant' },
      eval: { interval: 0 },
      data: { train: join(dir, 'sums.txt'), valFraction: 0 },
      tokenizer: { train: { vocabSize: 300, splitDigits } },
      out,
    });
    await train({ config: parseRunConfig(raw, 'test', dir) });
    const { loadTokenizer } = await import('../../src/tokenizer/index.ts');
    return loadTokenizer(join(out, 'tokenizer.json')).encode('123+4=127').length;
  };
  assert.equal(await tokensOf(true), 9, 'one token per character');
  assert.ok((await tokensOf(false)) < 9, 'digit groups merge');
});

test('an output folder holding a run, or other files, is refused unless forced', async (t) => {
  const dir = tempDir(t);
  const cfg = parseRunConfig(tinyRun(dir, { steps: 3, eval: { interval: 0 } }), 'test', dir);
  await train({ config: cfg });
  assert.throws(
    () => Trainer.create({ config: cfg }),
    (e: Error) => e instanceof TrainError && e.message.includes(`--resume ${cfg.out}`) && e.message.includes('--force'),
  );
  const again = await train({ config: cfg, force: true });
  assert.equal(again.step, 3);
  assert.equal(readMetrics(join(cfg.out, 'metrics.jsonl')).length, 3, 'the old metrics were replaced, not appended to');
  const other = join(dir, 'mine');
  mkdirSync(other);
  writeFileSync(join(other, 'notes.txt'), 'precious');
  assert.throws(() => Trainer.create({ config: { ...cfg, out: other } }), /is not empty/);
  assert.equal(readFileSync(join(other, 'notes.txt'), 'utf8'), 'precious');
  // A bad corpus path fails before the output folder is created.
  const bad = { ...cfg, out: join(dir, 'never'), data: { ...cfg.data, train: [join(dir, 'missing.txt')] } };
  assert.throws(() => Trainer.create({ config: bad }), /no such file or folder/);
  assert.equal(existsSync(join(dir, 'never')), false);
});

test('a dense family trains too: Llama with tied embeddings (no lm_head in the checkpoint)', async (t) => {
  const dir = tempDir(t);
  const llama = JSON.parse(readFileSync(fixture('models', 'llama_tiny', 'config.json'), 'utf8'));
  delete llama.bos_token_id;
  delete llama.eos_token_id;
  const cfg = parseRunConfig(tinyRun(dir, { model: { ...llama, vocab_size: null }, steps: 6, eval: { interval: 0 } }), 'test', dir);
  const seen: StepMetrics[] = [];
  const r = await train({ config: cfg, onStep: (m) => seen.push(m) });
  assert.ok(seen[5]!.ce < seen[0]!.ce);
  assert.deepEqual(seen[0]!.load, [], 'no MoE layers');
  assert.deepEqual(seen[0]!.mtp, []);
  const saved = JSON.parse(readFileSync(join(r.checkpoint!, 'config.json'), 'utf8'));
  assert.equal(saved.eos_token_id, 1, "the tokenizer's EOS fills a missing eos_token_id");
  assert.equal(saved.bos_token_id, 0);
  const { model, weights } = loadModel(r.checkpoint!);
  assert.equal(weights.maybe('lm_head.weight'), undefined);
  const logits = T.noGrad(() => model.forward(T.Tensor.from([0, 5, 6, 7], [1, 4], 'i32')).logits!);
  assert.ok(T.floatData(logits).every(Number.isFinite));
});
