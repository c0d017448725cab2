// Learning-rate schedules: warmup, cosine to the floor at the last step, WSD's stable plateau and
// final decay, constant.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { learningRate, type ScheduleConfig } from '../../src/train/schedule.ts';

const close = (a: number, b: number, msg?: string) => assert.ok(Math.abs(a - b) < 1e-12, `${msg ?? ''} ${a} vs ${b}`);

test('warmup ramps linearly from peak/warmup to the peak', () => {
  const s: ScheduleConfig = { kind: 'cosine', warmup: 4, minLrRatio: 0.1 };
  assert.deepEqual(
    [0, 1, 2, 3].map((i) => learningRate(s, 1, i, 100)),
    [0.25, 0.5, 0.75, 1],
  );
});

test('cosine: peak after warmup, half-way at the middle, the floor at the last step', () => {
  const s: ScheduleConfig = { kind: 'cosine', warmup: 10, minLrRatio: 0.1 };
  close(learningRate(s, 2, 10, 111), 2, 'first step after warmup');
  close(learningRate(s, 2, 60, 111), 0.2 + 1.8 * 0.5, 'middle');
  close(learningRate(s, 2, 110, 111), 0.2, 'last step');
  for (let i = 11; i < 111; i++) assert.ok(learningRate(s, 2, i, 111) <= learningRate(s, 2, i - 1, 111), `monotone at ${i}`);
});

test('wsd: constant until the decay phase, then linear (or sqrt/cosine) down to the floor', () => {
  const s: ScheduleConfig = { kind: 'wsd', warmup: 2, minLrRatio: 0, decayFraction: 0.2, decayShape: 'linear' };
  const lrs = Array.from({ length: 20 }, (_, i) => learningRate(s, 1, i, 20));
  assert.deepEqual(lrs.slice(2, 16), new Array(14).fill(1));
  close(lrs[16]!, 0.75);
  close(lrs[19]!, 0);
  const sq: ScheduleConfig = { ...s, decayShape: 'sqrt' };
  close(learningRate(sq, 1, 16, 20), 1 - Math.sqrt(0.25));
  const cos: ScheduleConfig = { ...s, decayShape: 'cosine' };
  close(learningRate(cos, 1, 17, 20), 0.5);
});

test('constant: the peak after warmup', () => {
  const s: ScheduleConfig = { kind: 'constant', warmup: 0 };
  assert.equal(learningRate(s, 3e-4, 0, 10), 3e-4);
  assert.equal(learningRate(s, 3e-4, 9, 10), 3e-4);
});
