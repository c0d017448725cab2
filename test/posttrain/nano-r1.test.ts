// deepseek-ts-nano-r1: the task's splits never leak, and the shipped model answers held-out
// questions in the R1-Zero layout through the same paths a user runs (dsts eval, the chat template).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { corpus, isHeldOut, questions } from '../../scripts/nano-r1/tasks.ts';
import { evaluate } from '../../src/posttrain/evaluate.ts';
import { R1_ZERO_TEMPLATE } from '../../src/posttrain/index.ts';
import { loadTokenizer } from '../../src/tokenizer/index.ts';
import { tempDir, writeJsonl } from './helpers.ts';

// The shipped model answers 22 of these 40 held-out questions greedily in the layout; the bars
// leave room for a kernel path that flips a few near-ties, and still fail a model that lost its
// copying of the question (the same corpus pre-trained 500 steps instead of 1,200: 5 of 40) or the layout.
const MIN_FORMAT = 0.9;
const MIN_PASS1 = 0.25;

const MODEL = fileURLToPath(new URL('../../models/deepseek-ts-nano-r1', import.meta.url));

test('the held-out questions are in neither the RL split nor the corpus, which never works a sum in <think>', () => {
  const test_ = questions(3, 200, 'test');
  const rl = new Set(questions(2, 800, 'train').map((q) => q.prompt));
  assert.equal(test_.length, 200);
  assert.ok(test_.every(isHeldOut));
  assert.equal(test_.filter((q) => rl.has(q.prompt)).length, 0);
  const docs = corpus(1, 40_000);
  const text = docs.join('\n');
  // R1-Zero's premise: no arithmetic step is ever worked inside the template's <think>; outside it,
  // the textbook exercises are.
  const thinks = docs.flatMap((d) => [...d.matchAll(/<think>(.*?)<\/think>/g)].map((m) => m[1]!));
  assert.ok(
    thinks.some((t) => t.includes('Compute ')),
    'the template restates arithmetic questions',
  );
  assert.deepEqual(
    thinks.filter((t) => /\d[+-]\d=/.test(t)),
    [],
  );
  assert.ok(/Compute \d[+-]\d[+-]\d: \d[+-]\d=/.test(text), 'the corpus works exercises in textbook form');
  assert.ok(text.includes('Compute '), 'the corpus has exercises');
  // A question is followed by ':' in a list, ' A:' as a question and answer, '.' in a conversation.
  const seen = (p: string) => [':', ' A:', '.'].some((end) => text.includes(`${p}${end}`));
  assert.ok(seen(questions(2, 800, 'train')[0]!.prompt), 'the check finds an RL question in the corpus');
  assert.deepEqual(
    test_.filter((q) => seen(q.prompt)).map((q) => q.prompt),
    [],
  );
});

test('the chat template asks the shipped model the way it was trained: the R1-Zero conversation, opened in <think>', () => {
  const tok = loadTokenizer(MODEL);
  const prompt = tok.applyChatTemplate([{ role: 'user', content: 'Compute 4+8-3' }], { addGenerationPrompt: true });
  assert.equal(prompt, `${R1_ZERO_TEMPLATE.replace('{prompt}', 'Compute 4+8-3')} <think>`);
  const config = JSON.parse(readFileSync(`${MODEL}/config.json`, 'utf8'));
  assert.equal(config.model_type, 'deepseek_v3');
  assert.equal(config.num_nextn_predict_layers, 1);
});

test('the shipped model answers held-out questions (greedy) in the R1-Zero layout, a quarter of them or more right', (t) => {
  const dir = tempDir(t, 'nano-r1-');
  const held = questions(3, 200, 'test').slice(0, 40);
  const data = writeJsonl(`${dir}/test.jsonl`, held);
  const r = evaluate({
    model: MODEL,
    data: [data],
    promptTemplate: 'r1-zero',
    n: 1,
    temperature: 0,
    topP: 1,
    topK: 0,
    maxTokens: 64,
    batchSize: 20,
    seed: 0,
    by: 'kind',
  });
  assert.equal(r.questions, 40);
  assert.ok(r.format.mean >= MIN_FORMAT, `format ${r.format.mean}`);
  assert.ok(r.pass1.mean >= MIN_PASS1, `pass@1 ${r.pass1.mean}`);
});
