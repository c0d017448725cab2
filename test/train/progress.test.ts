// The progress display: a bar redrawn in place on a terminal, a line every N steps otherwise, and
// messages that do not get tangled with the bar.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatDuration, ProgressReporter, type ProgressInfo } from '../../src/train/progress.ts';

const info = (step: number): ProgressInfo => ({ step, total: 20, loss: 2.5, lr: 3e-4, tokensPerSec: 1234.5, etaSeconds: 75 });

test('not a terminal: a plain line at step 1, every interval, and the last step', () => {
  let out = '';
  const r = new ProgressReporter({ write: (s) => (out += s) }, 5);
  for (let s = 1; s <= 20; s++) r.update(info(s));
  const lines = out.trim().split('\n');
  assert.equal(lines.length, 5);
  assert.equal(lines[1], 'step  5/20  loss 2.5000  lr 3.00e-4  1235 tok/s  ETA 1m15s');
  assert.ok(!out.includes('\r'));
});

test('a terminal: one bar redrawn with \\r; messages print above it', () => {
  let out = '';
  const r = new ProgressReporter({ write: (s) => (out += s), isTTY: true, columns: 200 }, 5);
  r.update(info(1));
  r.update(info(10));
  r.message('checkpoint → x');
  r.update(info(20));
  r.finish();
  assert.equal((out.match(/\r\x1b\[2K\[/g) ?? []).length, 3, 'three bar draws');
  assert.ok(out.includes('[############............] step 10/20'));
  assert.ok(out.includes('\r\x1b[2Kcheckpoint → x\n'));
  assert.ok(out.endsWith('\n'));
});

test('durations', () => {
  assert.equal(formatDuration(5), '5s');
  assert.equal(formatDuration(185), '3m05s');
  assert.equal(formatDuration(3720), '1h02m');
  assert.equal(formatDuration(Infinity), '?');
});
