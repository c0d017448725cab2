// `dsts train` end to end: a tiny DeepSeek-V3 with a tokenizer trained in the test learns a
// repetitive corpus from the command line; the checkpoint opens with loadModel; --resume continues;
// Ctrl-C (SIGINT) saves a checkpoint and exits 130; user mistakes are one line and exit 1.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as T from '../../src/tensor/index.ts';
import { loadModel } from '../../src/model/load.ts';
import { loadTokenizer } from '../../src/tokenizer/index.ts';
import { readMetrics, type StepMetrics } from '../../src/train/metrics.ts';
import { listCheckpoints } from '../../src/train/checkpoint.ts';
import { tempDir, tinyRun } from '../train/helpers.ts';
import { PATIENCE_MS } from '../helpers/patience.ts';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const dsts = join(repo, 'bin', 'dsts.js');

function run(args: string[], cwd: string) {
  return spawnSync(process.execPath, [dsts, ...args], { encoding: 'utf8', cwd, timeout: PATIENCE_MS });
}

/** A run.json in `dir` using relative paths, as a user would write it. */
function writeRunJson(dir: string, extra: Record<string, unknown> = {}): string {
  const raw = tinyRun(dir, { eval: { interval: 5, batches: 1 }, checkpoint: { interval: 0 }, ...extra });
  const json = { ...raw, data: { ...(raw.data as object), train: 'corpus.txt' }, tokenizer: 'tok/tokenizer.json', out: 'run' };
  writeFileSync(join(dir, 'run.json'), JSON.stringify(json, null, 2));
  return join(dir, 'run.json');
}

const trainSteps = (out: string) => readMetrics(join(out, 'metrics.jsonl')).filter((r): r is StepMetrics => r.type === 'train');

test('dsts train learns, writes a loadable checkpoint, and resumes', (t) => {
  const dir = tempDir(t, 'dsts-cli-train-');
  writeRunJson(dir);
  const r = run(['train', '--config', 'run.json', '--steps', '20', '--lr', '0.02', '--log-interval', '10'], dir);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /step 10\/20  loss \d+\.\d{4}  (eval \d+\.\d{4}  )?lr \d\.\d\de-\d  [\d.]+ tok\/s  ETA \S+/);
  assert.match(r.stderr, /step 5: eval loss \d+\.\d+, perplexity/);
  assert.match(r.stderr, /done: 20 steps; model → .*checkpoint-000020/);
  const out = join(dir, 'run');
  const steps = trainSteps(out);
  assert.equal(steps.length, 20);
  assert.ok(steps[19]!.ce < steps[0]!.ce - 2, `cross-entropy ${steps[0]!.ce} → ${steps[19]!.ce}`);

  const ckpt = join(out, 'checkpoint-000020');
  const { model, config } = loadModel(ckpt);
  assert.equal(config.modelType, 'deepseek_v3');
  assert.equal(model.mtp.length, 1);
  // The trained model has learnt the corpus: after "... sat on the" it predicts a word that follows
  // "the" there (an untrained one would pick any of its 300 tokens).
  const tok = loadTokenizer(ckpt);
  const ids = tok.encode('the dog ran to the park. the cat sat on the');
  const logits = T.noGrad(() => model.forward(T.Tensor.from(ids, [1, ids.length], 'i32'), { logits: 'last' }).logits!);
  const row = Array.from(T.floatData(logits));
  const next = tok.decode([row.indexOf(Math.max(...row))]).trim();
  assert.ok(['mat', 'park', 'cat', 'dog', 'm', 'p', 'c', 'd'].includes(next), `predicted '${next}'`);

  const again = run(['train', '--resume', 'run', '--steps', '24', '--log-interval', '100'], dir);
  assert.equal(again.status, 0, again.stderr);
  assert.match(again.stderr, /resuming .*checkpoint-000020 at step 20/);
  assert.equal(trainSteps(out).length, 24);
  assert.ok(existsSync(join(out, 'checkpoint-000024', 'model.safetensors')));
});

test('Ctrl-C saves a checkpoint and exits 130; the run resumes from it', async (t) => {
  const dir = tempDir(t, 'dsts-cli-sigint-');
  writeRunJson(dir, { eval: { interval: 0 } });
  const child = spawn(process.execPath, [dsts, 'train', '--config', 'run.json', '--steps', '100000', '--log-interval', '1'], { cwd: dir });
  let stderr = '';
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no progress within ${PATIENCE_MS / 1000} s:\n${stderr}`)), PATIENCE_MS);
    child.on('exit', (code) => reject(new Error(`dsts train exited (${code}) before step 3:\n${stderr}`)));
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (/step +3\/100000/.test(stderr)) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  child.kill('SIGINT');
  const code = await exited;
  assert.equal(code, 130, stderr);
  assert.match(stderr, /SIGINT: finishing this step and saving a checkpoint/);
  assert.match(stderr, /interrupted: checkpoint → /);
  const saved = listCheckpoints(join(dir, 'run'));
  assert.equal(saved.length, 1);
  const step = saved[0]!.step;
  assert.ok(step >= 3 && step < 100000);
  assert.equal(trainSteps(join(dir, 'run')).length, step);
  const r = run(['train', '--resume', 'run', '--steps', String(step + 2), '--quiet'], dir);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(trainSteps(join(dir, 'run')).length, step + 2);
});

test('user mistakes: one line on stderr, exit 1, no stack trace', (t) => {
  const dir = tempDir(t, 'dsts-cli-errors-');
  writeRunJson(dir);
  const check = (args: string[], re: RegExp) => {
    const r = run(args, dir);
    assert.equal(r.status, 1, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, re);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.ok(!r.stderr.includes('    at '), 'no stack');
  };
  check(['train'], /give --config <run\.json> or --resume/);
  check(['train', '--config', 'run.json', '--set', 'data.train="nope.txt"'], /no such file or folder: .*nope\.txt/);
  check(['train', '--config', 'run.json', '--set', 'optimizer.momentum=0.9'], /'optimizer\.momentum': unknown key/);
  const ok = run(['train', '--config', 'run.json', '--steps', '3', '--quiet', '--eval-interval', '0'], dir);
  assert.equal(ok.status, 0, ok.stderr);
  check(
    ['train', '--config', 'run.json', '--steps', '3'],
    /already holds a training run: continue it with --resume .*run, or pass --force/,
  );
  const forced = run(['train', '--config', 'run.json', '--steps', '3', '--force', '--quiet'], dir);
  assert.equal(forced.status, 0, forced.stderr);
});
