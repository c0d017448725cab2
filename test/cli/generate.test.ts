// End-to-end: `dsts generate` and `dsts logits` on the fixture checkpoints, through the real CLI.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openSafetensors } from '../../src/io/safetensors/index.ts';
import { fixture, readGolden, maxAbsDiff } from '../helpers/fixtures.ts';
import { writeTinyTokenizer } from '../generate/tiny-tokenizer.ts';
import generateCmd from '../../src/cli/commands/generate.ts';
import logitsCmd from '../../src/cli/commands/logits.ts';
import chatCmd from '../../src/cli/commands/chat.ts';
import type { Command } from '../../src/cli/command.ts';
import { UserError } from '../../src/cli/errors.ts';
import { UserFacingError } from '../../src/io/errors.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));

function dsts(args: string[], input?: string) {
  const r = spawnSync(process.execPath, [join(root, 'bin/dsts.js'), ...args], { cwd: root, encoding: 'utf8', input });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Runs `fn` with console.error silenced. */
async function quiet(fn: () => Promise<number>): Promise<number> {
  const error = console.error;
  console.error = () => {};
  try {
    return await fn();
  } finally {
    console.error = error;
  }
}

const ids = (name: string, key: string) => [...readGolden(name).get(key)!.data].map(Number);

for (const name of ['deepseek_v3_tiny_fp8']) {
  test(`dsts generate --ids --json prints the reference greedy continuation (${name})`, () => {
    const r = dsts([
      'generate',
      '--model',
      fixture('models', name),
      '--ids',
      ids(name, 'greedy_prompt').join(','),
      '--max-tokens',
      '8',
      '--json',
    ]);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { ids: number[]; text: unknown; finish_reason: string };
    assert.deepEqual(out.ids, ids(name, 'greedy_output'));
    assert.equal(out.text, null); // the fixture folders have no tokenizer
    assert.equal(out.finish_reason, 'length');
  });
}

test('dsts generate streams ids without a tokenizer, and text with one; seeded sampling repeats', async () => {
  const model = fixture('models', 'llama_tiny');
  const plain = dsts(['generate', '--model', model, '--ids', ids('llama_tiny', 'greedy_prompt').join(','), '--max-tokens', '8']);
  assert.equal(plain.code, 0, plain.stderr);
  assert.equal(plain.stdout.trim(), ids('llama_tiny', 'greedy_output').join(' '));

  const dir = mkdtempSync(join(tmpdir(), 'dsts-gen-'));
  try {
    writeTinyTokenizer(dir);
    const args = [
      'generate',
      '--model',
      model,
      '--tokenizer',
      dir,
      '--prompt',
      'hello there',
      '--max-tokens',
      '12',
      '--temperature',
      '0.9',
      '--seed',
      '5',
      '--ignore-eos',
    ];
    const streamed = dsts(args);
    assert.equal(streamed.code, 0, streamed.stderr);
    // The same run as JSON: same seed, same tokens, and the stream was their text.
    const j = JSON.parse(dsts([...args, '--json']).stdout) as { ids: number[]; text: string };
    assert.equal(j.ids.length, 12);
    assert.equal(streamed.stdout, `${j.text}\n`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('dsts logits writes [T, V] logits that match the reference, and refuses to overwrite without --force', async () => {
  const golden = readGolden('deepseek_v3_tiny');
  const input = golden.get('input_ids')!;
  const T = input.shape[1]!;
  const row = [...input.data.subarray(0, T)].map(Number);
  const dir = mkdtempSync(join(tmpdir(), 'dsts-logits-'));
  try {
    const out = join(dir, 'logits.safetensors');
    const r = dsts(['logits', '--model', fixture('models', 'deepseek_v3_tiny'), '--ids', row.join(','), '--out', out]);
    assert.equal(r.code, 0, r.stderr);
    const f = openSafetensors(out);
    const t = f.read('logits');
    f.close();
    assert.equal(t.dtype, 'F32');
    const V = golden.get('logits')!.shape[2]!;
    assert.deepEqual(t.shape, [T, V]);
    const ref = (golden.get('logits')!.data as Float32Array).subarray(0, T * V);
    const d = maxAbsDiff(t.data as Float32Array, ref);
    assert.ok(d < 1e-3, `max |diff| ${d}`);

    writeFileSync(out, 'keep me');
    const args = ['--model', fixture('models', 'deepseek_v3_tiny'), '--ids', '1,2', '--out', out];
    await assert.rejects(logitsCmd.run(args), (e: Error) => e instanceof UserError && /exists.*--force/.test(e.message));
    assert.equal(readFileSync(out, 'utf8'), 'keep me');
    assert.equal(await quiet(() => logitsCmd.run([...args, '--force'])), 0);
    const g = openSafetensors(out);
    assert.deepEqual(g.read('logits').shape, [2, V]);
    g.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('user mistakes exit 1 with one line and no stack trace', () => {
  const cases: [string[], RegExp][] = [
    [['generate', '--model', '/no/such/model', '--ids', '1,2'], /no\/such\/model: no such file/],
    [['logits', '--model', fixture('models', 'qwen2_tiny'), '--idz', '1'], /Unknown option '--idz'/],
  ];
  for (const [args, message] of cases) {
    const r = dsts(args);
    assert.equal(r.code, 1, `${args.join(' ')}: exit ${r.code}\n${r.stderr}`);
    assert.match(r.stderr, message);
    assert.equal(r.stderr.trim().split('\n').length, 1, `one line: ${r.stderr}`);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
  }
});

test('every other mistake is a UserError (what main turns into one line and exit 1)', async () => {
  const model = fixture('models', 'qwen2_tiny');
  const cases: [Command, string[], RegExp][] = [
    [logitsCmd, ['--model', '/no/such/model', '--ids', '1', '--out', join(tmpdir(), 'never.safetensors')], /no\/such\/model/],
    [chatCmd, ['--model', '/no/such/model'], /no\/such\/model/],
    [generateCmd, ['--model', model, '--prompt', 'hi'], /needs a tokenizer/],
    [generateCmd, ['--model', model, '--ids', '1,x'], /not a token id/],
    [generateCmd, ['--model', model, '--ids', '1,9999'], /outside the model's vocabulary/],
    [logitsCmd, ['--model', model, '--ids', '1,9999', '--out', join(tmpdir(), 'never.safetensors')], /outside the model's vocabulary/],
    [generateCmd, ['--model', model, '--ids', '1', '--temperature', 'hot'], /--temperature expects a number/],
    [generateCmd, ['--model', model, '--ids', '1', '--top-p', '2'], /--top-p must be in/],
    [generateCmd, ['--model', model, '--ids', '1', '--max-tokens', '0'], /--max-tokens must be/],
    [generateCmd, ['--model', model], /exactly one of --prompt/],
    [generateCmd, ['--model', model, '--ids', '1', '--stop', 'x'], /--stop needs a tokenizer/],
    [generateCmd, ['--model', model, '--ids', '1', '--tokenizer', '/no/tokenizer.json'], /tokenizer not found/],
    [chatCmd, ['--model', model], /needs a tokenizer/],
  ];
  for (const [cmd, args, message] of cases) {
    await assert.rejects(
      cmd.run(args),
      (e: Error) => (e instanceof UserError || e instanceof UserFacingError) && message.test(e.message),
      args.join(' '),
    );
  }
});
