// The run config: defaults, paths relative to the file, model config by path or inline, one-line
// errors naming the key for typos and wrong types, command-line overrides, and a resolved config
// that parses back to itself (what checkpoints store).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadRunConfig, parseRunConfig, runConfigJson } from '../../src/train/config/run-config.ts';
import { TrainError } from '../../src/train/errors.ts';
import { UserFacingError } from '../../src/io/errors.ts';
import { TINY_V3, tempDir } from './helpers.ts';

function write(dir: string, json: unknown): string {
  const p = join(dir, 'run.json');
  writeFileSync(p, JSON.stringify(json));
  return p;
}

test('defaults and relative paths', (t) => {
  const dir = tempDir(t);
  mkdirSync(join(dir, 'm'));
  writeFileSync(join(dir, 'm', 'config.json'), JSON.stringify(TINY_V3));
  const cfg = loadRunConfig(
    write(dir, { model: 'm', data: { train: ['corpus', 'x.jsonl'] }, tokenizer: 'tok/tokenizer.json', out: 'runs/a' }),
  );
  assert.equal(cfg.model.hidden_size, 32, 'a model folder is read for its config.json');
  assert.deepEqual(cfg.data.train, [join(dir, 'corpus'), join(dir, 'x.jsonl')]);
  assert.deepEqual(cfg.tokenizer, { kind: 'file', path: join(dir, 'tok/tokenizer.json') });
  assert.equal(cfg.out, join(dir, 'runs/a'));
  assert.equal(cfg.seqLen, 256);
  assert.equal(cfg.gradAccum, 1);
  assert.deepEqual(cfg.optimizer, { lr: 3e-4, beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1, gradClip: 1, momentsDtype: 'f32' });
  assert.deepEqual(cfg.schedule, { kind: 'cosine', warmup: 0, minLrRatio: 0.1 });
  assert.deepEqual(cfg.biasUpdate, { enabled: true, gamma: 0.001 });
  assert.equal(cfg.mtpWeight, 0.3);
  assert.equal(cfg.balanceAlpha, 0.0001);
  assert.equal(cfg.precision, 'f32');
  assert.deepEqual(cfg.checkpoint, { interval: 500, dtype: 'bf16', keep: 3 });
  assert.equal(cfg.data.valFraction, 0.01);
  assert.equal(cfg.data.textDocuments, 'paragraph');
});

test('a resolved config parses back to the same config', (t) => {
  const dir = tempDir(t);
  const cfg = loadRunConfig(
    write(dir, {
      model: TINY_V3,
      data: { train: 'c.txt', validation: 'v.txt' },
      tokenizer: { train: { vocabSize: 500 } },
      out: 'o',
      schedule: { kind: 'wsd', warmup: 5, decayFraction: 0.3 },
      precision: 'bf16',
      optimizer: { momentsDtype: 'bf16' },
      biasUpdate: { enabled: false },
    }),
  );
  assert.equal(cfg.precision, 'bf16');
  assert.equal(cfg.optimizer.momentsDtype, 'bf16');
  const again = parseRunConfig(runConfigJson(cfg), 'saved', '/elsewhere');
  assert.deepEqual({ ...again, source: cfg.source }, cfg);
});

test('overrides win over the file and are validated like it', (t) => {
  const dir = tempDir(t);
  const path = write(dir, { model: TINY_V3, data: { train: 'c.txt' }, tokenizer: 't.json', out: 'o', steps: 10 });
  const cfg = loadRunConfig(path, { steps: 50, 'optimizer.lr': 0.001, 'schedule.kind': 'wsd', out: '/abs/out', precision: undefined });
  assert.equal(cfg.steps, 50);
  assert.equal(cfg.optimizer.lr, 0.001);
  assert.equal(cfg.schedule.kind, 'wsd');
  assert.equal(cfg.out, '/abs/out');
  assert.throws(() => loadRunConfig(path, { steps: 2.5 }), /'steps': must be an integer/);
});

test('mistakes are one-line user errors naming the key', (t) => {
  const dir = tempDir(t);
  const base = { model: TINY_V3, data: { train: 'c.txt' }, tokenizer: 't.json', out: 'o' };
  const cases: [unknown, RegExp][] = [
    [{ ...base, lerning_rate: 1 }, /'lerning_rate': unknown key/],
    [{ ...base, optimizer: { lr: -1 } }, /'optimizer\.lr': must be greater than 0/],
    [{ ...base, optimizer: { learningRate: 1 } }, /'optimizer\.learningRate': unknown key/],
    [{ ...base, precision: 'fp16' }, /'precision': must be one of 'f32', 'bf16', 'fp8'/],
    [{ ...base, optimizer: { momentsDtype: 'fp8' } }, /'optimizer\.momentsDtype': must be one of 'f32', 'bf16'/],
    [{ ...base, data: {} }, /'data\.train': missing/],
    [{ ...base, model: undefined }, /'model': missing/],
    [{ ...base, model: 'nope.json' }, /'model': no such file/],
    [{ ...base, tokenizer: { path: 'a', train: { vocabSize: 300 } } }, /exactly one of "path" or "train"/],
    [{ ...base, out: undefined }, /'out': missing/],
    [{ ...base, schedule: { warmup: 2000 }, steps: 100 }, /warmup.*must be below 'steps'/],
    [{ ...base, seqLen: '256' }, /'seqLen': must be a number/],
    [
      { ...base, data: { train: 'c.txt', validation: 'v.txt', valFraction: 0.1 } },
      /'data\.valFraction': give data\.validation or data\.valFraction, not both/,
    ],
  ];
  for (const [json, re] of cases) {
    assert.throws(
      () => loadRunConfig(write(dir, json)),
      (e: Error) => {
        assert.ok(e instanceof TrainError && e instanceof UserFacingError, `${e.name}: ${e.message}`);
        assert.match(e.message, re);
        assert.ok(!e.message.includes('\n'), 'one line');
        return true;
      },
    );
  }
  writeFileSync(join(dir, 'bad.json'), '{ "model": ');
  assert.throws(() => loadRunConfig(join(dir, 'bad.json')), /not valid JSON/);
  assert.throws(() => loadRunConfig(join(dir, 'missing.json')), /cannot read the run config/);
});
