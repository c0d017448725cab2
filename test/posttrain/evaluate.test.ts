// `dsts eval`: pass@1 and format rate over sampled completions, with intervals over questions.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { estimate } from '../../src/posttrain/evaluate.ts';
import { PATIENCE_MS } from '../helpers/patience.ts';
import { tempDir, tinyModel, writeJsonl } from './helpers.ts';

const dsts = fileURLToPath(new URL('../../bin/dsts.js', import.meta.url));

test('estimate: the mean of per-question rates and a normal 95% interval over questions', () => {
  const e = estimate([1, 0, 1, 1]);
  assert.equal(e.mean, 0.75);
  const half = 1.96 * Math.sqrt(0.25 / 4); // sample variance of [1,0,1,1] is 0.25
  assert.ok(Math.abs(e.lo - (0.75 - half)) < 1e-12);
  assert.equal(e.hi, 1, 'clamped to 1');
  assert.deepEqual(estimate([0.5, 0.5]), { mean: 0.5, lo: 0.5, hi: 0.5 });
});

test('dsts eval prints the table, writes the report, and refuses to overwrite it or to score questions without answers', (t) => {
  const dir = tempDir(t, 'dsts-eval-cli-');
  const model = tinyModel(t, 'deepseek_v3_tiny', 'r1');
  writeJsonl(join(dir, 'q.jsonl'), [
    { prompt: 'What is 1+1?', answer: 2, kind: 'add' },
    { prompt: 'What is 3-1?', answer: 2, kind: 'sub' },
    { prompt: 'What is 2+2?', answer: 4, kind: 'add' },
  ]);
  const run = (...args: string[]) =>
    spawnSync(process.execPath, [dsts, 'eval', ...args], { encoding: 'utf8', cwd: dir, timeout: PATIENCE_MS });
  const args = ['--model', model, '--data', 'q.jsonl', '--n', '2', '--max-tokens', '8', '--by', 'kind', '--seed', '3'];
  const r = run(...args, '--out', 'report.json');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^group\s+questions\s+pass@1/m);
  assert.match(r.stdout, /^add\s+2 /m);
  assert.match(r.stdout, /^sub\s+1 /m);
  assert.match(r.stdout, /^all\s+3 /m);
  const report = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8'));
  assert.equal(report.completions, 6);
  assert.equal(report.groups.add.questions, 2);
  assert.equal(report.perQuestion.length, 3, 'one rate per question, for paired comparisons');
  assert.ok(Math.abs(report.perQuestion.reduce((a: number, b: number) => a + b, 0) / 3 - report.pass1.mean) < 1e-12);
  // The same seed samples the same completions.
  const again = run(...args);
  assert.equal(again.status, 0, again.stderr);
  assert.equal(again.stdout, r.stdout);

  const exists = run(...args, '--out', 'report.json');
  assert.equal(exists.status, 1);
  assert.match(exists.stderr, /report\.json exists: give --force/);
  writeFileSync(join(dir, 'bad.jsonl'), JSON.stringify({ prompt: 'no answer here' }) + '\n');
  const bad = run('--model', model, '--data', 'bad.jsonl');
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /bad\.jsonl:1: a question needs an "answer"/);
  assert.doesNotMatch(bad.stderr, /at .*\.ts:\d+/, 'no stack trace');
});
