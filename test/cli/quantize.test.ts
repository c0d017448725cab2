// End-to-end: `--quantize` on the inference commands, `dsts quantize`, and the memory refusal, as a user runs them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fixture } from '../helpers/fixtures.ts';
import { PATIENCE_MS } from '../helpers/patience.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const dsts = (args: string[], env: Record<string, string> = {}) =>
  spawnSync(process.execPath, [join(root, 'bin/dsts.js'), ...args], {
    cwd: root,
    encoding: 'utf8',
    timeout: PATIENCE_MS,
    env: { ...process.env, ...env },
  });

test('generate --quantize q8|q4|fp8 runs; on-disk quantisation gives the same ids; a bad scheme is one line', () => {
  const model = fixture('models', 'qwen2_tiny');
  const dir = mkdtempSync(join(tmpdir(), 'dsts-quant-'));
  try {
    for (const s of ['q8', 'q4', 'fp8']) {
      const atLoad = dsts([
        'generate',
        '--model',
        model,
        '--ids',
        '1,2,3',
        '--max-tokens',
        '6',
        '--temperature',
        '0',
        '--json',
        '--quantize',
        s,
      ]);
      assert.equal(atLoad.status, 0, atLoad.stderr);
      const out = join(dir, s);
      const q = dsts(['quantize', '--model', model, '--out', out, '--scheme', s]);
      assert.equal(q.status, 0, q.stderr);
      assert.match(q.stdout, /tensors as .* → .* GB/);
      const onDisk = dsts(['generate', '--model', out, '--ids', '1,2,3', '--max-tokens', '6', '--temperature', '0', '--json']);
      assert.equal(onDisk.status, 0, onDisk.stderr);
      assert.deepEqual(JSON.parse(onDisk.stdout).ids, JSON.parse(atLoad.stdout).ids, `${s}: on disk ≡ at load`);
    }
    const again = dsts(['quantize', '--model', model, '--out', join(dir, 'q8'), '--scheme', 'q8']);
    assert.equal(again.status, 1);
    assert.match(again.stderr.trim(), /^[^\n]*not an empty folder[^\n]*$/, 'nothing is overwritten, one line');
    const bad = dsts(['generate', '--model', model, '--ids', '1', '--quantize', 'q3']);
    assert.equal(bad.status, 1);
    assert.equal(bad.stderr.trim().split('\n').length, 1, bad.stderr);
    assert.match(bad.stderr, /--quantize must be one of q8, q4, fp8/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a model that does not fit is refused with one line saying what would fit, before loading', () => {
  const r = dsts(['generate', '--model', fixture('models', 'deepseek_v3_tiny'), '--ids', '1,2', '--max-tokens', '2'], {
    DSTS_MEMORY_LIMIT_MB: '1',
  });
  assert.equal(r.status, 1);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0]!, /needs [\d.]+ GB of memory for its weights as stored .* only [\d.]+ GB is available\. No --quantize scheme fits/);
});
