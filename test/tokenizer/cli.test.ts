// The tokenizer commands end to end, through bin/dsts.js as a user runs them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deepseekV3Dir, publicFixture, REPO } from './paths.ts';

function dsts(args: string[], input = '') {
  const r = spawnSync(process.execPath, ['bin/dsts.js', ...args], { cwd: REPO, input, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const model = deepseekV3Dir();
const fixture = publicFixture();

test('tokenize: stdin text → JSON ids; --special adds BOS; detokenize inverts', () => {
  const sample = fixture.encode.find((e) => e.text.startsWith('混合专家'))!;
  const r = dsts(['tokenize', '--tokenizer', model], sample.text);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), sample.ids);
  const withBos = dsts(['tokenize', '--tokenizer', join(model, 'tokenizer.json'), '--special', '--text', 'Hello, world!']);
  assert.deepEqual(JSON.parse(withBos.stdout), [0, 19923, 14, 2058, 3]);
  const back = dsts(['detokenize', '--tokenizer', model], JSON.stringify(sample.ids));
  assert.equal(back.code, 0, back.stderr);
  assert.equal(back.stdout, sample.text);
  const list = dsts(['detokenize', '--tokenizer', model, '--skip-special'], '0, 19923 14\n2058,3');
  assert.equal(list.stdout, 'Hello, world!');
});

test('user mistakes: one line on stderr, exit 1, no stack', () => {
  const cases = [
    dsts(['tokenize', '--tokenizer', '/no/such/tokenizer.json'], 'x'),
    dsts(['tokenize'], 'x'),
    dsts(['detokenize', '--tokenizer', model], '[1, "a"]'),
    dsts(['detokenize', '--tokenizer', model], '999999'),
    dsts(['tokenizer', 'train', '--corpus', '/no/such/corpus', '--vocab-size', '300', '--out', join(tmpdir(), 'dsts-never')]),
  ];
  for (const r of cases) {
    assert.equal(r.code, 1, r.stderr);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /^dsts: [^\n]+\n$/, `one line: ${JSON.stringify(r.stderr)}`);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
  }
  assert.match(cases[0]!.stderr, /not found: \/no\/such\/tokenizer\.json/);
});

test('tokenizer train: corpus folder (text + JSONL) → files that tokenize loads; no overwrite without --force', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dsts-cli-'));
  try {
    const corpus = join(dir, 'corpus');
    const out = join(dir, 'tok');
    spawnSync('mkdir', ['-p', corpus]);
    const lines = Array.from({ length: 300 }, (_, i) => `第${i}行：机器学习和深度学习。 Line ${i}: machine learning and deep learning.`);
    writeFileSync(join(corpus, 'a.txt'), lines.join('\n') + '\n');
    writeFileSync(join(corpus, 'b.jsonl'), lines.map((text) => JSON.stringify({ text })).join('\n') + '\n');
    const r = dsts(['tokenizer', 'train', '--corpus', corpus, '--vocab-size', '400', '--out', out]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /counting words/);
    assert.match(r.stderr, /merging: \d+\/\d+/);
    assert.ok(existsSync(join(out, 'tokenizer.json')) && existsSync(join(out, 'tokenizer_config.json')));
    const text = '机器学习 and deep learning';
    const ids = JSON.parse(dsts(['tokenize', '--tokenizer', out, '--text', text]).stdout) as number[];
    assert.ok(ids.length < Buffer.byteLength(text) / 2);
    assert.equal(dsts(['detokenize', '--tokenizer', out], JSON.stringify(ids)).stdout, text);
    const again = dsts(['tokenizer', 'train', '--corpus', corpus, '--vocab-size', '400', '--out', out]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /already exists \(use --force/);
    assert.equal(dsts(['tokenizer', 'train', '--corpus', corpus, '--vocab-size', '400', '--out', out, '--force']).code, 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
