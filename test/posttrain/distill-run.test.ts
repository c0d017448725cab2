// `dsts distill` end to end: a tiny DeepSeek-V3 teacher distilled into a Llama student of another
// width — soft labels (generalised JSD at a temperature) from a top-k cache, hidden states through
// learned projections, MLA attention distributions — writes checkpoints that open as models, resumes to exactly the losses of an
// uninterrupted run (projections and cache included), and refuses, in one line, a student with
// another tokenizer or a cache made with other settings.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadModel } from '../../src/model/load.ts';
import { readMetrics, type StepMetrics } from '../../src/train/metrics.ts';
import { PATIENCE_MS } from '../helpers/patience.ts';
import { repetitiveText, trainTinyTokenizer } from '../train/helpers.ts';
import { tempDir, tinyModel } from './helpers.ts';

const dsts = fileURLToPath(new URL('../../bin/dsts.js', import.meta.url));
const run = (args: string[], cwd: string) => spawnSync(process.execPath, [dsts, ...args], { encoding: 'utf8', cwd, timeout: PATIENCE_MS });
const steps = (out: string) => readMetrics(join(out, 'metrics.jsonl')).filter((r): r is StepMetrics => r.type === 'train');

const STUDENT = {
  architectures: ['LlamaForCausalLM'],
  model_type: 'llama',
  hidden_size: 32,
  intermediate_size: 64,
  num_hidden_layers: 2,
  num_attention_heads: 4,
  num_key_value_heads: 2,
  max_position_embeddings: 64,
  rms_norm_eps: 1e-6,
  rope_theta: 10000,
  tie_word_embeddings: true,
  bos_token_id: 0,
  eos_token_id: 1,
};

function writeConfig(dir: string, teacher: string, distill: Record<string, unknown>, extra: Record<string, unknown> = {}): void {
  writeFileSync(join(dir, 'corpus.txt'), repetitiveText(60));
  const cfg = {
    model: STUDENT,
    data: { train: 'corpus.txt', valFraction: 0.1, shuffleBuffer: 16 },
    seqLen: 16,
    batchSize: 2,
    steps: 4,
    optimizer: { lr: 0.01 },
    schedule: { kind: 'constant' },
    eval: { interval: 2, batches: 1 },
    checkpoint: { interval: 0 },
    log: { interval: 1 },
    out: 'run',
    seed: 3,
    distill: { teacher, ...distill },
    ...extra,
  };
  writeFileSync(join(dir, 'distill.json'), JSON.stringify(cfg));
}

test('dsts distill: top-k soft labels, hidden states and attention, loadable checkpoints, exact resume', (t) => {
  const dir = tempDir(t, 'dsts-distill-');
  const teacher = tinyModel(t, 'deepseek_v3_tiny');
  writeConfig(dir, teacher, {
    alpha: 0.7,
    temperature: 2,
    divergence: 'jsd',
    beta: 0.3,
    teacherCache: { path: 'cache', topK: 8 },
    hidden: {
      pairs: [
        [1, 1],
        [3, 2],
      ],
      loss: 'mse',
      weight: 0.5,
    },
    attention: { pairs: [[3, 2]], weight: 0.2 },
  });
  const r = run(['distill', '--config', 'distill.json'], dir);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /teacher cache .*cache: 8 of 8 sequences to label \(top-8\)/);
  assert.match(r.stderr, /done: 4 steps; student → .*checkpoint-000004/);
  const full = steps(join(dir, 'run'));
  assert.equal(full.length, 4);
  for (const s of full) {
    assert.ok(Number.isFinite(s.parts?.soft) && s.parts!.soft! >= 0, `soft loss ${s.parts?.soft}`);
    assert.ok(Number.isFinite(s.parts?.hidden) && s.parts!.hidden! > 0, `hidden loss ${s.parts?.hidden}`);
    assert.ok(Number.isFinite(s.parts?.attention) && s.parts!.attention! > 0, `attention loss ${s.parts?.attention}`);
    // L = (1 − α)·CE + α·soft + w_h·hidden + w_a·attention
    const sum = 0.3 * s.ce + 0.7 * s.parts!.soft! + 0.5 * s.parts!.hidden! + 0.2 * s.parts!.attention!;
    assert.ok(Math.abs(s.loss - sum) < 1e-4 * s.loss, `loss ${s.loss} vs ${sum}`);
  }
  const { config } = loadModel(join(dir, 'run', 'checkpoint-000004'));
  assert.equal(config.modelType, 'llama');

  // 2 steps, then --resume to 4: the same losses (the projections come back from the trainer state).
  const r1 = run(['distill', '--config', 'distill.json', '--out', 'split', '--steps', '2'], dir);
  assert.equal(r1.status, 0, r1.stderr);
  assert.match(r1.stderr, /all 4 sequences labelled/);
  const r2 = run(['distill', '--resume', 'split', '--steps', '4'], dir);
  assert.equal(r2.status, 0, r2.stderr);
  assert.match(r2.stderr, /resuming .*checkpoint-000002 at step 2/);
  assert.deepEqual(
    steps(join(dir, 'split')).map((s) => [s.loss, s.parts]),
    full.map((s) => [s.loss, s.parts]),
  );
});

test('dsts distill: alpha 0 trains on the data alone; initFrom starts from a model folder; a cache made with other settings is refused', (t) => {
  const dir = tempDir(t, 'dsts-distill-');
  const teacher = tinyModel(t, 'deepseek_v3_tiny');
  writeConfig(dir, teacher, { alpha: 0 }, { steps: 2 });
  const r = run(['distill', '--config', 'distill.json'], dir);
  assert.equal(r.status, 0, r.stderr);
  assert.doesNotMatch(r.stderr, /teacher:/); // never loaded
  assert.ok(steps(join(dir, 'run')).every((s) => s.parts === undefined && s.loss === s.ce));
  // initFrom: a new student starting from that checkpoint's weights (its config.json the model config).
  writeConfig(dir, teacher, { alpha: 0, initFrom: 'run/checkpoint-000002' }, { steps: 2, model: undefined, out: 'init' });
  const init = run(['distill', '--config', 'distill.json'], dir);
  assert.equal(init.status, 0, init.stderr);
  assert.match(init.stderr, /student: weights from .*checkpoint-000002/);
  const [first] = steps(join(dir, 'run'));
  const [again] = steps(join(dir, 'init'));
  assert.ok(
    again!.ce < first!.ce - 0.05,
    `the first batch's CE from the trained weights ${again!.ce} vs from the initialisation ${first!.ce}`,
  );
  const wrong = run(['train', '--resume', 'run'], dir);
  assert.equal(wrong.status, 1);
  assert.match(wrong.stderr, /^dsts: --resume: .* is a 'dsts distill' run; continue it with: dsts distill --resume /);

  writeConfig(dir, teacher, { alpha: 1, teacherCache: { path: 'cache', topK: 4 } }, { steps: 2, out: 'a' });
  assert.equal(run(['distill', '--config', 'distill.json'], dir).status, 0);
  writeConfig(dir, teacher, { alpha: 1, teacherCache: { path: 'cache', topK: 6 } }, { steps: 2, out: 'b' });
  const bad = run(['distill', '--config', 'distill.json'], dir);
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /^dsts: .*cache: this teacher cache was made with other settings \(k: 4 ≠ 6\)/);
});

test('dsts distill: another tokenizer is refused in one line, pointing to the sequence-level route', (t) => {
  const dir = tempDir(t, 'dsts-distill-');
  const teacher = tinyModel(t, 'deepseek_v3_tiny');
  const other = trainTinyTokenizer(join(dir, 'tok'), repetitiveText(60));
  writeConfig(dir, teacher, { alpha: 0.5 }, { tokenizer: other });
  const r = run(['distill', '--config', 'distill.json'], dir);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /^dsts: soft-label distillation needs the same vocabulary.*sequence-level route.*dsts sample.*dsts sft/);
  assert.equal(r.stderr.trim().split('\n').length, 1);
  assert.ok(!existsSync(join(dir, 'run')), 'nothing written');
});

test('dsts distill: on-policy batches (GKD λ) are the student’s own continuations, and resume exactly', (t) => {
  const dir = tempDir(t, 'dsts-distill-');
  const teacher = tinyModel(t, 'deepseek_v3_tiny');
  writeConfig(dir, teacher, { alpha: 1, temperature: 1, divergence: 'jsd', beta: 0.5, onPolicy: { lambda: 0.5, promptTokens: 6 } });
  const r = run(['distill', '--config', 'distill.json'], dir);
  assert.equal(r.status, 0, r.stderr);
  const full = steps(join(dir, 'run'));
  const on = full.map((s) => s.parts!.onPolicy);
  assert.ok(on.includes(1) && on.includes(0), `on-policy steps: ${on}`);
  for (const s of full) assert.ok(Number.isFinite(s.parts!.soft) && s.parts!.soft! > 0);
  const r1 = run(['distill', '--config', 'distill.json', '--out', 'split', '--steps', '2'], dir);
  assert.equal(r1.status, 0, r1.stderr);
  const r2 = run(['distill', '--resume', 'split', '--steps', '4'], dir);
  assert.equal(r2.status, 0, r2.stderr);
  assert.deepEqual(
    steps(join(dir, 'split')).map((s) => [s.loss, s.parts]),
    full.map((s) => [s.loss, s.parts]),
  );
  const bad = run(['distill', '--config', 'distill.json', '--set', 'distill.onPolicy.promptTokens=16', '--out', 'c'], dir);
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /promptTokens \(16\) must be below seqLen \(16\)/);
});
