// Checkpoints in Hugging Face format: loadModel() opens them (MTP module included) and computes the
// in-memory model's logits — exactly from an f32 checkpoint, to bf16 rounding from the default bf16
// one (router biases kept f32); old checkpoints are pruned; a run folder resolves to its latest.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as T from '../../src/tensor/index.ts';
import { Tensor } from '../../src/tensor/index.ts';
import { loadModel } from '../../src/model/load.ts';
import { buildModel } from '../../src/model/registry.ts';
import { MapWeights } from '../../src/model/weights.ts';
import { openSafetensors } from '../../src/io/safetensors/index.ts';
import { decodeBf16, encodeBf16 } from '../../src/tensor/codecs.ts';
import { parseRunConfig } from '../../src/train/config/run-config.ts';
import { Trainer } from '../../src/train/trainer.ts';
import { listCheckpoints, resolveCheckpoint } from '../../src/train/checkpoint.ts';
import { TrainError } from '../../src/train/errors.ts';
import { tempDir, tinyRun } from './helpers.ts';

function maxDiff(a: Tensor, b: Tensor): number {
  const x = T.floatData(a);
  const y = T.floatData(b);
  assert.equal(x.length, y.length);
  let m = 0;
  for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i]! - y[i]!));
  return m;
}

const ids = Tensor.from([2, 40, 41, 42, 43, 44, 45, 46, 5, 6, 7, 8, 9, 10, 11, 12], [2, 8], 'i32');

test('an f32 checkpoint loads with loadModel and gives the in-memory logits (main and MTP)', (t) => {
  const dir = tempDir(t);
  const cfg = parseRunConfig(tinyRun(dir, { steps: 3, checkpoint: { interval: 0, dtype: 'f32' } }), 'test', dir);
  const trainer = Trainer.create({ config: cfg });
  for (let i = 0; i < 3; i++) trainer.trainStep();
  const ckpt = trainer.save();
  trainer.close();
  assert.equal(ckpt, join(cfg.out, 'checkpoint-000003'));

  const config = JSON.parse(readFileSync(join(ckpt, 'config.json'), 'utf8'));
  assert.deepEqual(config.architectures, ['DeepseekV3ForCausalLM']);
  assert.equal(config.model_type, 'deepseek_v3');
  assert.equal(config.torch_dtype, 'float32');
  assert.equal(config.vocab_size, trainer.tokenizer.vocabSize, 'vocab_size taken from the tokenizer');
  assert.ok(existsSync(join(ckpt, 'tokenizer.json')) && existsSync(join(ckpt, 'tokenizer_config.json')));

  const loaded = loadModel(ckpt, { dtype: 'f32' });
  assert.equal(loaded.model.mtp.length, 1, 'the MTP module is in the checkpoint (layer num_hidden_layers)');
  assert.ok(loaded.weights.names().includes('model.layers.2.eh_proj.weight'));
  T.noGrad(() => {
    const a = trainer.model.forward(ids);
    const b = loaded.model.forward(ids);
    assert.equal(maxDiff(a.logits!, b.logits!), 0);
    const ma = trainer.model.mtpLogits(ids, a.final);
    const mb = loaded.model.mtpLogits(ids, b.final);
    assert.equal(maxDiff(ma.logits[0]!, mb.logits[0]!), 0);
  });
});

test('a bf16 checkpoint: bf16 weights, f32 router bias, logits of the bf16-rounded model', (t) => {
  const dir = tempDir(t);
  const cfg = parseRunConfig(tinyRun(dir, { steps: 4, checkpoint: { interval: 0, dtype: 'bf16' } }), 'test', dir);
  const trainer = Trainer.create({ config: cfg });
  trainer.trainStep();
  trainer.trainStep();
  const ckpt = trainer.save();
  trainer.close();
  const f = openSafetensors(join(ckpt, 'model.safetensors'));
  const dtypes = new Map(f.names().map((n) => [n, f.info(n).dtype]));
  f.close();
  assert.equal(dtypes.get('model.layers.1.mlp.gate.e_score_correction_bias'), 'F32');
  assert.equal(dtypes.get('model.layers.2.mlp.gate.e_score_correction_bias'), 'F32');
  assert.equal(dtypes.get('model.embed_tokens.weight'), 'BF16');
  assert.equal(dtypes.get('model.layers.2.eh_proj.weight'), 'BF16');
  assert.equal(JSON.parse(readFileSync(join(ckpt, 'config.json'), 'utf8')).torch_dtype, 'bfloat16');
  const bias = trainer.weights.get('model.layers.1.mlp.gate.e_score_correction_bias');
  assert.ok(
    Array.from(bias.data).some((v) => v !== 0),
    'the bias moved (aux-loss-free balancing is on)',
  );

  // The same model with every bf16-stored weight rounded, built in memory.
  const rounded = new Map<string, Tensor>();
  for (const n of trainer.weights.names()) {
    const w = trainer.weights.get(n);
    const d = w.data as Float32Array;
    rounded.set(n, n.endsWith('e_score_correction_bias') ? w.detach() : new Tensor(decodeBf16(encodeBf16(d)), w.shape, 'f32'));
  }
  const reference = buildModel(trainer.modelConfig, new MapWeights(rounded));
  const loaded = loadModel(ckpt); // stored dtype: bf16 kept in memory
  T.noGrad(() => {
    const d = maxDiff(reference.forward(ids).logits!, loaded.model.forward(ids).logits!);
    assert.ok(d < 1e-4, `bf16 checkpoint logits differ by ${d}`);
  });
});

test('old checkpoints are pruned to `keep`; a run folder resolves to its latest checkpoint', (t) => {
  const dir = tempDir(t);
  const cfg = parseRunConfig(
    tinyRun(dir, { steps: 5, checkpoint: { interval: 1, keep: 2, dtype: 'bf16' }, eval: { interval: 0 } }),
    'test',
    dir,
  );
  const trainer = Trainer.create({ config: cfg });
  for (let i = 0; i < 4; i++) {
    trainer.trainStep();
    trainer.save();
  }
  trainer.close();
  assert.deepEqual(
    listCheckpoints(cfg.out).map((c) => c.step),
    [3, 4],
  );
  assert.deepEqual(resolveCheckpoint(cfg.out), { checkpoint: join(cfg.out, 'checkpoint-000004'), runDir: cfg.out });
  const three = join(cfg.out, 'checkpoint-000003');
  assert.deepEqual(resolveCheckpoint(three), { checkpoint: three, runDir: cfg.out });
  assert.throws(
    () => resolveCheckpoint(dir),
    (e: Error) => e instanceof TrainError && /holds no checkpoint/.test(e.message),
  );
  assert.throws(() => resolveCheckpoint(join(dir, 'nope')), /no such folder/);
});
