// `dsts plot`: a metrics log (or run folder) becomes an SVG next to it or at --out; a file it did
// not write is never replaced without --force; a log without steps is a one-line error.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SVG_MARKER } from '../../src/train/plot/svg.ts';
import { tempDir } from '../train/helpers.ts';
import { PATIENCE_MS } from '../helpers/patience.ts';

const dsts = fileURLToPath(new URL('../../bin/dsts.js', import.meta.url));
const run = (args: string[], cwd: string) =>
  spawnSync(process.execPath, [dsts, 'plot', ...args], { encoding: 'utf8', cwd, timeout: PATIENCE_MS });

test('dsts plot writes an SVG of the run and protects other files', (t) => {
  const dir = tempDir(t, 'dsts-cli-plot-');
  mkdirSync(join(dir, 'run'));
  const lines = [];
  for (let s = 1; s <= 30; s++) {
    lines.push(
      JSON.stringify({
        type: 'train',
        step: s,
        loss: 5 / s + 1,
        ce: 4 / s + 1,
        mtp: [4.2 / s + 1],
        balance: 1e-4,
        lr: 1e-3,
        gradNorm: 1,
        tokens: s,
        tokensPerSec: 1,
        elapsed: s,
        load: [{ layer: 1, max: 9, mean: 8, maxOverMean: 1.125 }],
      }),
    );
    if (s % 10 === 0) lines.push(JSON.stringify({ type: 'eval', step: s, loss: 4 / s + 1.2, ppl: 1, tokens: 10 }));
  }
  writeFileSync(join(dir, 'run', 'metrics.jsonl'), lines.join('\n') + '\n{"type": "train", "st'); // torn last line
  const r = run(['run'], dir);
  assert.equal(r.status, 0, r.stderr);
  const svg = readFileSync(join(dir, 'run', 'metrics.svg'), 'utf8');
  assert.ok(svg.includes(SVG_MARKER) && svg.includes('>eval loss<') && svg.includes('>layer 1<'));
  assert.equal(r.stdout.trim(), join('run', 'metrics.svg'));
  assert.equal(run(['run/metrics.jsonl', '--out', 'loss.svg', '--title', 'tiny'], dir).status, 0, 'and again to another file');
  assert.ok(readFileSync(join(dir, 'loss.svg'), 'utf8').includes('>tiny<'));
  assert.equal(run(['run'], dir).status, 0, 're-plotting replaces its own SVG');

  writeFileSync(join(dir, 'mine.svg'), '<svg>my drawing</svg>');
  const refused = run(['run', '--out', 'mine.svg'], dir);
  assert.equal(refused.status, 1);
  assert.match(refused.stderr, /^dsts: plot: mine\.svg exists and was not written by dsts plot \(use --force to replace it\)\n$/);
  assert.equal(readFileSync(join(dir, 'mine.svg'), 'utf8'), '<svg>my drawing</svg>');
  assert.equal(run(['run', '--out', 'mine.svg', '--force'], dir).status, 0);

  writeFileSync(join(dir, 'empty.jsonl'), '');
  const empty = run(['empty.jsonl'], dir);
  assert.equal(empty.status, 1);
  assert.match(empty.stderr, /has no training steps yet/);
  assert.equal(existsSync(join(dir, 'empty.svg')), false);
});
