// Resuming: a run interrupted part-way and resumed from its checkpoint logs exactly the losses (bit
// for bit) of a run that was never interrupted — with bf16 checkpoints (f32 master weights in the
// trainer state), gradient accumulation, evaluation and a shuffled multi-file corpus; steps logged
// after the last checkpoint by a crashed run are replaced, not duplicated; bf16 GEMMs with bf16
// AdamW moments resume exactly too.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseRunConfig, type RunConfig } from '../../src/train/config/run-config.ts';
import { Trainer, resumeRunConfig, train } from '../../src/train/trainer.ts';
import { readMetrics } from '../../src/train/metrics.ts';
import { readTrainerState } from '../../src/train/checkpoint.ts';
import { repetitiveText, tempDir, tinyRun } from './helpers.ts';

/** Comparable view of a metrics log: every record without its timing fields. */
function losses(out: string): unknown[] {
  return readMetrics(join(out, 'metrics.jsonl')).map((r) =>
    r.type === 'train' ? [r.step, r.loss, r.ce, r.mtp, r.balance, r.gradNorm, r.lr, r.load, r.tokens] : [r.step, 'eval', r.loss],
  );
}

function config(dir: string, out: string, extra: Record<string, unknown> = {}): RunConfig {
  writeFileSync(join(dir, 'second.txt'), repetitiveText(60, 7));
  const raw = tinyRun(dir, {
    steps: 10,
    batchSize: 2,
    gradAccum: 2,
    eval: { interval: 3, batches: 1 },
    checkpoint: { interval: 0, dtype: 'bf16' },
    ...extra,
  });
  const data = raw.data as Record<string, unknown>;
  return parseRunConfig({ ...raw, data: { ...data, train: [data.train, join(dir, 'second.txt')], shuffleBuffer: 8 }, out }, 'test', dir);
}

test('interrupt + resume gives bit-identical losses to an uninterrupted run', async (t) => {
  const dir = tempDir(t);
  const straight = config(dir, join(dir, 'straight'));
  await train({ config: straight });
  const want = losses(straight.out);
  assert.equal(want.filter((r) => (r as unknown[])[1] !== 'eval').length, 10);

  const broken = config(dir, join(dir, 'broken'));
  const stop = new AbortController();
  const first = await train({ config: broken, signal: stop.signal, onStep: (m) => m.step === 4 && stop.abort() });
  assert.equal(first.interrupted, true);
  assert.equal(first.step, 4);
  assert.equal(first.checkpoint, join(broken.out, 'checkpoint-000004'));
  const resumed = await train({ config: resumeRunConfig(broken.out), resume: broken.out });
  assert.equal(resumed.step, 10);
  assert.equal(resumed.interrupted, false);
  assert.deepEqual(losses(broken.out), want);
});

test('bf16 GEMMs and bf16 AdamW moments: the checkpoint stores the moments as BF16, and resume is bit-identical', async (t) => {
  const dir = tempDir(t);
  const extra = { precision: 'bf16', optimizer: { momentsDtype: 'bf16' }, steps: 6 };
  const straight = config(dir, join(dir, 'straight'), extra);
  await train({ config: straight });
  const want = losses(straight.out);
  const f32Moments = config(dir, join(dir, 'f32-moments'), { ...extra, optimizer: { momentsDtype: 'f32' } });
  await train({ config: f32Moments });
  assert.notDeepEqual(losses(f32Moments.out), want, 'the moments dtype changes the run');

  const broken = config(dir, join(dir, 'broken'), extra);
  const stop = new AbortController();
  await train({ config: broken, signal: stop.signal, onStep: (m) => m.step === 3 && stop.abort() });
  const saved = readTrainerState(join(broken.out, 'checkpoint-000003')).tensors;
  const moments = [...saved].filter(([n]) => n.startsWith('optimizer.exp_avg'));
  assert.ok(moments.length > 0 && moments.every(([, t]) => t.dtype === 'BF16'));
  const resumed = await train({ config: resumeRunConfig(broken.out), resume: broken.out });
  assert.equal(resumed.step, 6);
  assert.deepEqual(losses(broken.out), want);
});

test('steps a crashed run logged after its last checkpoint are redone, not duplicated', async (t) => {
  const dir = tempDir(t);
  const straight = config(dir, join(dir, 'straight'), { steps: 7, eval: { interval: 0 } });
  await train({ config: straight });
  const crashed = config(dir, join(dir, 'crashed'), { steps: 7, eval: { interval: 0 } });
  const tr = Trainer.create({ config: crashed });
  for (let i = 0; i < 3; i++) tr.trainStep();
  tr.save();
  tr.trainStep();
  tr.trainStep(); // logged, never checkpointed: the process "dies" here
  tr.close();
  assert.equal(readMetrics(join(crashed.out, 'metrics.jsonl')).length, 5);
  await train({ config: resumeRunConfig(crashed.out), resume: join(crashed.out, 'checkpoint-000003') });
  assert.deepEqual(losses(crashed.out), losses(straight.out));
});

test('a finished run can be extended with more steps; overrides apply on resume', async (t) => {
  const dir = tempDir(t);
  const cfg = config(dir, join(dir, 'run'), { steps: 4, eval: { interval: 0 }, schedule: { kind: 'constant', warmup: 0 } });
  await train({ config: cfg });
  const more = resumeRunConfig(join(cfg.out, 'checkpoint-000004'), { steps: 6 });
  assert.equal(more.steps, 6);
  assert.equal(more.out, cfg.out, 'a resumed run writes into its own folder');
  const r = await train({ config: more, resume: cfg.out });
  assert.equal(r.step, 6);
  assert.equal(readMetrics(join(cfg.out, 'metrics.jsonl')).length, 6);
  const logs: string[] = [];
  const idle = await train({ config: resumeRunConfig(cfg.out), resume: cfg.out, log: (l) => logs.push(l) });
  assert.equal(idle.step, 6);
  assert.equal(idle.checkpoint, null, 'nothing trained, nothing saved');
  assert.ok(
    logs.some((l) => l.includes('nothing to do: the run is at step 6 of 6')),
    logs.join('\n'),
  );
  // A corpus that changed under the run is worth a warning (the data order cannot match any more).
  appendFileSync(join(dir, 'second.txt'), 'more text\n');
  const warned: string[] = [];
  await train({ config: resumeRunConfig(cfg.out, { steps: 7 }), resume: cfg.out, log: (l) => warned.push(l) });
  assert.ok(
    warned.some((l) => l.startsWith('warning: the training corpus changed')),
    warned.join('\n'),
  );
});

test('a resumed run keeps saving after rotation deleted the checkpoint it resumed from', async (t) => {
  // Issue 9 item 1: saving copied tokenizer.json from the resumed-from checkpoint, which `keep`
  // rotation deletes after `keep` new saves; the next save then failed with ENOENT.
  const dir = tempDir(t);
  const cfg = config(dir, join(dir, 'run'), { steps: 4, eval: { interval: 0 }, checkpoint: { interval: 2, keep: 2, dtype: 'f32' } });
  await train({ config: cfg });
  const r = await train({ config: resumeRunConfig(cfg.out, { steps: 12 }), resume: cfg.out });
  assert.equal(r.step, 12);
  assert.equal(r.checkpoint, join(cfg.out, 'checkpoint-000012'));
  assert.ok(existsSync(join(cfg.out, 'checkpoint-000012', 'tokenizer.json')));
  assert.ok(!existsSync(join(cfg.out, 'checkpoint-000004')), 'the resumed-from checkpoint was rotated away');
});

test('resuming with fewer total steps warns that the learning rate jumps; resuming as saved does not', async (t) => {
  // Issue 9 item 9: the schedule is a function of (step, total), so --steps below the original total
  // moved the rate at once, silently.
  const dir = tempDir(t);
  const cfg = config(dir, join(dir, 'run'), { steps: 10, eval: { interval: 0 }, schedule: { kind: 'cosine', warmup: 1 } });
  const stop = new AbortController();
  await train({ config: cfg, signal: stop.signal, onStep: (m) => m.step === 4 && stop.abort() });
  const quietLogs: string[] = [];
  const same = Trainer.create({ config: resumeRunConfig(cfg.out), resume: cfg.out, log: (l) => quietLogs.push(l) });
  same.close();
  assert.ok(!quietLogs.some((l) => l.includes('learning rate jumps')), quietLogs.join('\n'));
  const logs: string[] = [];
  const shorter = Trainer.create({ config: resumeRunConfig(cfg.out, { steps: 6 }), resume: cfg.out, log: (l) => logs.push(l) });
  shorter.close();
  const warning = logs.find((l) => l.startsWith('warning: the learning rate jumps'));
  assert.ok(warning, logs.join('\n'));
  assert.match(warning, /at step 4 \(total steps 10 → 6\)/);
  assert.match(warning, /cuts the decay short/);
});
