// The FP8 measurement's arithmetic (bench/lib/precision-gaps.ts): relative gaps to the BF16 run and
// the f32 seed band they are read against.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { precisionGaps } from '../../bench/lib/precision-gaps.ts';

test('gaps are relative to the baseline; the seed band is the two seeds’ difference over their mean', () => {
  const runs = [
    { name: 'f32-s1', valCe: 4.0, trainCe: 4.2 },
    { name: 'f32-s2', valCe: 4.04, trainCe: 4.1 },
    { name: 'bf16', valCe: 4.02, trainCe: 4.0 },
    { name: 'fp8', valCe: 4.05, trainCe: 4.04 },
    { name: 'far', valCe: 4.1, trainCe: 4.0 },
  ];
  const g = precisionGaps(runs, 'bf16', ['f32-s1', 'f32-s2']);
  assert.equal(g.valGap.bf16, 0);
  assert.ok(Math.abs(g.valGap.fp8! - 0.03 / 4.02) < 1e-12);
  assert.ok(Math.abs(g.trainGap.fp8! - 0.01) < 1e-12);
  assert.ok(Math.abs(g.seedBand - 0.04 / 4.02) < 1e-12);
  assert.equal(g.withinSeedBand.fp8, true);
  assert.equal(g.withinSeedBand.far, false, `${g.valGap.far} against a band of ${g.seedBand}`);
  assert.throws(() => precisionGaps(runs, 'fp16', ['f32-s1', 'f32-s2']), /no run named 'fp16'/);
});
