// `dsts sample`: N completions per prompt, scored by the reward functions, the accepted ones written
// as JSONL — which `dsts sft` then trains on (R1's rejection-sampling stage).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseSftConfig } from '../../src/posttrain/sft/config.ts';
import { sft } from '../../src/posttrain/sft/trainer.ts';
import { PATIENCE_MS } from '../helpers/patience.ts';
import { tempDir, tinyModel, writeJsonl } from './helpers.ts';

const dsts = fileURLToPath(new URL('../../bin/dsts.js', import.meta.url));

test('dsts sample keeps the rewarded completions as SFT data that dsts sft trains on', async (t) => {
  const dir = tempDir(t, 'dsts-sample-');
  const model = tinyModel(t, 'deepseek_v3_tiny', 'r1');
  writeFileSync(join(dir, 'even.js'), 'export default (prompt, completion) => (completion.length % 2 === 0 ? 1 : 0);\n');
  writeJsonl(join(dir, 'prompts.jsonl'), [{ prompt: 'Add 1 and 2.' }, { prompt: 'Say hello.' }, { prompt: 'Name a fox.' }]);
  writeFileSync(
    join(dir, 'sample.json'),
    JSON.stringify({
      model,
      data: { train: 'prompts.jsonl' },
      rewards: [{ module: './even.js' }],
      n: 6,
      max_tokens: 10,
      temperature: 1,
      keep: 'all',
      out: 'accepted.jsonl',
      batchSize: 2,
    }),
  );
  const r = spawnSync(process.execPath, [dsts, 'sample', '--config', 'sample.json', '--seed', '4'], {
    encoding: 'utf8',
    cwd: dir,
    timeout: PATIENCE_MS,
  });
  assert.equal(r.status, 0, r.stderr);
  const m = /accepted (\d+) of 18 completions \((\d) of 3 prompts\), mean reward ([\d.]+); (\d+) written/.exec(r.stderr);
  assert.ok(m, r.stderr);
  const lines = readFileSync(join(dir, 'accepted.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));
  assert.equal(lines.length, Number(m[4]));
  assert.equal(lines.length, Number(m[1]), 'keep "all" writes every accepted completion');
  assert.ok(lines.length > 0 && lines.length < 18, `${lines.length} accepted`);
  for (const l of lines) {
    assert.equal(l.reward, 1);
    const reply = l.messages[l.messages.length - 1];
    assert.equal(reply.role, 'assistant');
    assert.ok(reply.content.startsWith('<think>\n'), "the reasoning R1's prompt opened is part of the reply");
    assert.equal((reply.content.length - '<think>\n'.length) % 2, 0);
  }
  const config = parseSftConfig(
    { model, data: { train: 'accepted.jsonl' }, seqLen: 64, batchSize: 2, steps: 1, out: 'sft', schedule: { kind: 'constant' } },
    join(dir, 'sft.json'),
    dir,
  );
  const res = await sft({ config });
  assert.equal(res.step, 1);
});

test('keep "longest" writes, per prompt, the longest of the completions keep "all" accepts (the same seeds draw the same ones)', (t) => {
  const dir = tempDir(t, 'dsts-sample-longest-');
  const model = tinyModel(t, 'deepseek_v3_tiny', 'r1');
  writeFileSync(join(dir, 'any.js'), 'export default () => 1;\n');
  writeJsonl(join(dir, 'prompts.jsonl'), [{ prompt: 'Add 1 and 2.' }, { prompt: 'Say hello.' }]);
  const run = (keep: string, out: string) => {
    writeFileSync(
      join(dir, 'sample.json'),
      JSON.stringify({
        model,
        data: { train: 'prompts.jsonl' },
        rewards: [{ module: './any.js' }],
        n: 5,
        max_tokens: 12,
        temperature: 1,
        keep,
        out,
        batchSize: 2,
      }),
    );
    const r = spawnSync(process.execPath, [dsts, 'sample', '--config', 'sample.json', '--seed', '9'], {
      encoding: 'utf8',
      cwd: dir,
      timeout: PATIENCE_MS,
    });
    assert.equal(r.status, 0, r.stderr);
    return readFileSync(join(dir, out), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { messages: { content: string }[]; source: { line: number } });
  };
  const all = run('all', 'all.jsonl');
  const longest = run('longest', 'longest.jsonl');
  assert.equal(all.length, 10);
  assert.equal(longest.length, 2);
  for (const l of longest) {
    const reply = (x: (typeof all)[number]) => x.messages[x.messages.length - 1]!.content;
    const lengths = all.filter((a) => a.source.line === l.source.line).map((a) => reply(a).length);
    assert.ok(new Set(lengths).size > 1, 'the completions differ in length');
    assert.equal(reply(l).length, Math.max(...lengths));
  }
});
