// `dsts sft` end to end: a tiny model learns a few conversations, writes a checkpoint that opens as
// a model, resumes to exactly the losses an uninterrupted run gets, and runs on every family;
// mistakes in the config are one line and exit 1.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadModel } from '../../src/model/load.ts';
import { readMetrics, type StepMetrics } from '../../src/train/metrics.ts';
import { parseSftConfig } from '../../src/posttrain/sft/config.ts';
import { sft } from '../../src/posttrain/sft/trainer.ts';
import { PATIENCE_MS } from '../helpers/patience.ts';
import { chatRows, FAMILIES, tempDir, tinyModel, writeJsonl } from './helpers.ts';

const dsts = fileURLToPath(new URL('../../bin/dsts.js', import.meta.url));
const run = (args: string[], cwd: string) => spawnSync(process.execPath, [dsts, ...args], { encoding: 'utf8', cwd, timeout: PATIENCE_MS });
const losses = (out: string) =>
  readMetrics(join(out, 'metrics.jsonl'))
    .filter((r): r is StepMetrics => r.type === 'train')
    .map((r) => r.loss);

function writeConfig(dir: string, model: string, extra: Record<string, unknown> = {}): void {
  writeJsonl(join(dir, 'chats.jsonl'), chatRows(8));
  const cfg = {
    model,
    data: { train: 'chats.jsonl' },
    seqLen: 96,
    batchSize: 2,
    steps: 6,
    optimizer: { lr: 0.01, weightDecay: 0 },
    schedule: { kind: 'constant' },
    out: 'run',
    log: { interval: 1 },
    ...extra,
  };
  writeFileSync(join(dir, 'sft.json'), JSON.stringify(cfg));
}

test('dsts sft learns, checkpoints a loadable model, and resumes exactly', (t) => {
  const dir = tempDir(t, 'dsts-sft-');
  writeConfig(dir, tinyModel(t, 'deepseek_v3_tiny'));
  const r = run(['sft', '--config', 'sft.json'], dir);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /done: 6 steps; model → .*checkpoint-000006/);
  const full = losses(join(dir, 'run'));
  assert.equal(full.length, 6);
  assert.ok(full[5]! < full[0]!, `loss ${full[0]} → ${full[5]}`);
  const { config } = loadModel(join(dir, 'run', 'checkpoint-000006'));
  assert.equal(config.modelType, 'deepseek_v3');

  // 3 steps, then --resume to 6: the same losses as the uninterrupted run.
  const r1 = run(['sft', '--config', 'sft.json', '--out', 'split', '--steps', '3'], dir);
  assert.equal(r1.status, 0, r1.stderr);
  const r2 = run(['sft', '--resume', 'split', '--steps', '6'], dir);
  assert.equal(r2.status, 0, r2.stderr);
  assert.match(r2.stderr, /resuming .*checkpoint-000003 at step 3/);
  const split = losses(join(dir, 'split'));
  assert.equal(split.length, 6);
  split.forEach((l, i) => assert.ok(Math.abs(l - full[i]!) < 1e-6, `step ${i + 1}: ${l} vs ${full[i]}`));

  const plot = run(['plot', 'run'], dir);
  assert.equal(plot.status, 0, plot.stderr);
});

test('dsts sft evaluates on a held-out set of conversations', (t) => {
  const dir = tempDir(t, 'dsts-sft-eval-');
  writeConfig(dir, tinyModel(t, 'qwen2_tiny'), {
    data: { train: 'chats.jsonl', validation: 'held.jsonl' },
    eval: { interval: 2, batches: 2 },
    steps: 4,
  });
  writeJsonl(join(dir, 'held.jsonl'), chatRows(3));
  const r = run(['sft', '--config', 'sft.json'], dir);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /step 2: eval loss \d+\.\d{4} \(\d+ assistant tokens\)/);
  const evals = readMetrics(join(dir, 'run', 'metrics.jsonl')).filter((m) => m.type === 'eval');
  assert.deepEqual(
    evals.map((e) => e.step),
    [2, 4],
  );
  assert.ok(evals[1]!.loss < evals[0]!.loss, `eval loss ${evals[0]!.loss} → ${evals[1]!.loss}`);
});

test('dsts sft: a bad config is one line and exit 1', (t) => {
  const dir = tempDir(t, 'dsts-sft-bad-');
  writeConfig(dir, tinyModel(t, 'deepseek_v3_tiny'), { data: { train: 'missing.jsonl' } });
  const r = run(['sft', '--config', 'sft.json'], dir);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /^dsts: .*missing\.jsonl: cannot read the dataset \(no such file\)\n$/);
  writeConfig(dir, tinyModel(t, 'deepseek_v3_tiny'), { packng: true });
  const typo = run(['sft', '--config', 'sft.json', '--force'], dir);
  assert.equal(typo.status, 1);
  assert.match(typo.stderr, /^dsts: .*'packng': unknown key/);
  writeJsonl(join(dir, 'chats2.jsonl'), [{ messages: [{ role: 'user', content: 'hi' }] }]);
  writeFileSync(join(dir, 'sft.json'), JSON.stringify({ model: tinyModel(t), data: { train: 'chats2.jsonl' }, out: 'run3' }));
  const noReply = run(['sft', '--config', 'sft.json'], dir);
  assert.equal(noReply.status, 1);
  assert.match(noReply.stderr, /^dsts: .*chats2\.jsonl:1: no assistant message to train on\n$/);
});

for (const family of FAMILIES) {
  test(`sft runs on ${family}`, async (t) => {
    const dir = tempDir(t, `dsts-sft-${family}-`);
    writeJsonl(join(dir, 'chats.jsonl'), chatRows(4));
    const config = parseSftConfig(
      {
        model: tinyModel(t, family),
        data: { train: 'chats.jsonl' },
        seqLen: 64,
        packing: family !== 'llama_tiny',
        batchSize: 2,
        steps: 2,
        schedule: { kind: 'constant' },
        out: 'run',
      },
      join(dir, 'sft.json'),
      dir,
    );
    const r = await sft({ config });
    assert.equal(r.step, 2);
    const l = losses(join(dir, 'run'));
    assert.ok(l.every(Number.isFinite), `losses ${l}`);
    assert.equal(loadModel(r.checkpoint!).config.modelType, family.replace('_tiny', ''));
  });
}
