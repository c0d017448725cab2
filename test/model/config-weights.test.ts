// A config.json that contradicts its weights is refused at load with one clear line: more layers than
// stored, fewer, a head count, hidden_size, intermediate_size or vocab_size that the stored shapes
// contradict (issue 9 item 4). Each case copies a fixture checkpoint and edits its config.json.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestContext } from 'node:test';
import { loadModel } from '../../src/model/load.ts';
import { WeightMismatchError } from '../../src/model/check.ts';
import { fixture } from '../helpers/fixtures.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));

/** A copy of fixture `model` whose config.json has `edits` applied. */
function edited(t: TestContext, model: string, edits: Record<string, unknown>): string {
  const dir = mkdtempSync(join(tmpdir(), 'dsts-mismatch-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const src = fixture('models', model);
  copyFileSync(join(src, 'model.safetensors'), join(dir, 'model.safetensors'));
  const config = JSON.parse(readFileSync(join(src, 'config.json'), 'utf8')) as Record<string, unknown>;
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...config, ...edits }));
  return dir;
}

const cases: [string, string, Record<string, unknown>, RegExp][] = [
  ['deepseek_v3_tiny', 'more layers than stored', { num_hidden_layers: 5 }, /num_hidden_layers is 5 but the weights hold 3 layers/],
  [
    'deepseek_v3_tiny',
    'fewer layers than stored',
    { num_hidden_layers: 2, num_nextn_predict_layers: 0 },
    /the weights have layer 2 but num_hidden_layers is 2/,
  ],
  [
    'deepseek_v3_tiny',
    'a head count',
    { num_attention_heads: 8 },
    /'model\.layers\.0\.self_attn\.q_b_proj\.weight' is stored as \[96, 48\] but the config implies \[192, 48\]/,
  ],
  [
    'deepseek_v3_tiny',
    'hidden_size',
    { hidden_size: 32 },
    /'model\.embed_tokens\.weight' is stored as \[512, 64\] but the config implies \[512, 32\]/,
  ],
  [
    'deepseek_v3_tiny',
    'intermediate_size',
    { intermediate_size: 128 },
    /'model\.layers\.0\.mlp\.gate_proj\.weight' is stored as \[160, 64\] but the config implies \[128, 64\]/,
  ],
  [
    'deepseek_v3_tiny',
    'vocab_size',
    { vocab_size: 600 },
    /'model\.embed_tokens\.weight' is stored as \[512, 64\] but the config implies \[600, 64\]/,
  ],
  ['llama_tiny', 'key-value heads', { num_key_value_heads: 4 }, /k_proj\.weight' is stored as/],
  ['qwen2_tiny', 'intermediate_size', { intermediate_size: 8 }, /gate_proj\.weight' is stored as/],
];

for (const [model, what, edits, message] of cases) {
  test(`${model}: a config with the wrong ${what} is refused at load`, (t) => {
    const dir = edited(t, model, edits);
    assert.throws(
      () => loadModel(dir),
      (e: unknown) => {
        assert.ok(e instanceof WeightMismatchError, String(e));
        assert.match(e.message, message);
        assert.ok(!e.message.includes('\n'), 'one line');
        return true;
      },
    );
  });
}

test('the unchanged fixtures load', () => {
  for (const model of ['deepseek_v3_tiny', 'deepseek_v3_tiny_fp8', 'deepseek_v2_tiny', 'llama_tiny', 'qwen2_tiny'])
    loadModel(fixture('models', model));
});

test('dsts: a mismatching config is one line on stderr and exit 1, no stack trace', (t) => {
  const dir = edited(t, 'deepseek_v3_tiny', { num_attention_heads: 8 });
  const r = spawnSync(
    process.execPath,
    [join(root, 'bin/dsts.js'), 'logits', '--model', dir, '--ids', '1,2', '--out', join(dir, 'out.safetensors')],
    { cwd: root, encoding: 'utf8' },
  );
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, /^dsts: config\.json does not match the weights: 'model\.layers\.0\.self_attn\.q_b_proj\.weight'/);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
});
