// The package's library entry, imported as a user would: by its name (Node resolves a package's own
// name through package.json "exports"), and it must point at a real file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../', import.meta.url));

test('package.json "exports" names an existing entry', () => {
  const pkg = JSON.parse(readFileSync(`${root}package.json`, 'utf8')) as { name: string; exports: Record<string, string> };
  assert.ok(existsSync(`${root}${pkg.exports['.']}`), pkg.exports['.']);
});

test("import 'deepseek-ts' gives the public API: load, tokenize, generate, train, serve", async () => {
  const lib = await import('deepseek-ts');
  for (const name of [
    'loadModel',
    'loadConfig',
    'countParams',
    'loadTokenizer',
    'Generator',
    'loadForGeneration',
    'train',
    'Trainer',
    'loadRunConfig',
    'sft',
    'grpo',
    'rejectionSample',
    'startServer',
    'Tensor',
    'makePlan',
    'simulate',
    'exportFiles',
  ]) {
    assert.equal(typeof (lib as Record<string, unknown>)[name], 'function', name);
  }
  // A real call through the entry: parameter counts of an inline config.
  const config = lib.parseConfig(
    {
      model_type: 'llama',
      vocab_size: 10,
      hidden_size: 4,
      intermediate_size: 8,
      num_hidden_layers: 1,
      num_attention_heads: 2,
      tie_word_embeddings: true,
    },
    'inline',
  );
  assert.equal(lib.countParams(config).total, 10 * 4 + 4 * (4 + 4 + 4 + 4) + 3 * 4 * 8 + 2 * 4 + 4);
});
