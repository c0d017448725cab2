// The built-in rule rewards: reading the final answer, exact and numeric equality, the R1-Zero
// format (with the <think> an R1 prompt opens), scoring with weights and "no opinion", and the
// errors of a reward that throws or returns garbage.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { answersMatch, extractAnswer, parseNumber } from '../../src/posttrain/rewards/answer.ts';
import { accuracyReward, formatReward } from '../../src/posttrain/rewards/builtin.ts';
import { rewardContext, type Reward } from '../../src/posttrain/rewards/types.ts';
import { scoreCompletions } from '../../src/posttrain/rewards/score.ts';
import { R1_ZERO_TEMPLATE } from '../../src/posttrain/data/prompts.ts';

test('the final answer: <answer> tags, then \\boxed{}, then what follows </think>', () => {
  assert.equal(extractAnswer('<think>2+2</think> <answer> 4 </answer>'), '4');
  assert.equal(extractAnswer('<answer>1</answer> no, <answer>2</answer>'), '2');
  assert.equal(extractAnswer('so the result is \\boxed{\\frac{1}{2}}.'), '\\frac{1}{2}');
  assert.equal(extractAnswer('<think>hmm</think>\n\n42'), '42');
  assert.equal(extractAnswer('I do not know'), null);
});

test('numbers compare as numbers, text exactly (whitespace aside)', () => {
  assert.equal(parseNumber('1,000'), 1000);
  assert.equal(parseNumber('3/4'), 0.75);
  assert.equal(parseNumber('-2.50'), -2.5);
  assert.equal(parseNumber('12.'), 12);
  assert.equal(parseNumber('50%'), 50);
  assert.equal(parseNumber('12 apples'), null);
  assert.ok(answersMatch('0.5', '1/2'));
  assert.ok(answersMatch('1,000', '1000'));
  assert.ok(!answersMatch('1001', '1000'));
  assert.ok(answersMatch(' Paris ', 'Paris'));
  assert.ok(!answersMatch('paris', 'Paris'));
});

test('accuracy: 1 for the right answer, 0 otherwise, null without an expected answer', () => {
  const acc = accuracyReward();
  const ctx = (completion: string, example: Record<string, unknown>) => rewardContext('q', completion, example);
  assert.equal(acc(ctx('<think>7·6</think><answer>42</answer>', { answer: 42 })), 1);
  assert.equal(acc(ctx('<think>7·6</think><answer>41</answer>', { answer: '42' })), 0);
  assert.equal(acc(ctx('no answer here', { answer: '42' })), 0);
  assert.equal(acc(ctx('<answer>x = 2</answer>', { answer: ['2', 'x = 2'] })), 1);
  assert.equal(acc(ctx('<answer>1</answer>', {})), null);
  assert.equal(accuracyReward('solution')(ctx('<answer>5</answer>', { solution: '5' })), 1);
});

test("format: R1-Zero's <think>…</think> <answer>…</answer>, counting the <think> the prompt opened", () => {
  const fmt = formatReward();
  assert.equal(fmt(rewardContext('Q', '<think>reason</think> <answer>4</answer>', {})), 1);
  assert.equal(fmt(rewardContext('Q', '<think>\nreason\n</think>\n<answer>\n4\n</answer>\n', {})), 1);
  assert.equal(fmt(rewardContext('Q', '<answer>4</answer>', {})), 0);
  assert.equal(fmt(rewardContext('Q', '<think>reason</think> <answer>4</answer> and more', {})), 0);
  assert.equal(fmt(rewardContext('Q', 'reason</think><answer>4</answer>', {})), 0);
  // R1's chat template ends the prompt with "<think>\n": the completion starts inside the reasoning.
  assert.equal(fmt(rewardContext('<｜User｜>Q<｜Assistant｜><think>\n', 'reason\n</think>\n<answer>4</answer>', {})), 1);
  assert.ok(
    R1_ZERO_TEMPLATE.includes('<think> reasoning process here </think> <answer> answer here </answer>. User: {prompt}. Assistant:'),
  );
});

test('scoring: weighted sum over the functions that gave a score; errors name the reward and the example', async () => {
  const rewards: Reward[] = [
    { name: 'a', weight: 2, score: () => 1 },
    { name: 'b', weight: 0.5, score: (c) => (c.example.unscored ? null : 4) },
  ];
  const items = [
    { ...rewardContext('p', 'c', {}), line: 0 },
    { ...rewardContext('p', 'c', { unscored: true }), line: 1 },
  ];
  const s = await scoreCompletions(rewards, items);
  assert.deepEqual(Array.from(s.total), [4, 2]);
  assert.ok(Number.isNaN(s.perFunction[1]![1]!));
  const throwing: Reward[] = [
    {
      name: 'mine',
      weight: 1,
      source: '/x/mine.ts',
      score: () => {
        throw new Error('boom');
      },
    },
  ];
  await assert.rejects(
    scoreCompletions(throwing, [{ ...rewardContext('p', 'c', { id: 'q7' }), line: 6 }]),
    /reward 'mine' \(\/x\/mine\.ts\) threw on example "q7" \(line 7\): boom/,
  );
  const garbage: Reward[] = [{ name: 'g', weight: 1, score: () => 'yes' as unknown as number }];
  await assert.rejects(
    scoreCompletions(garbage, [{ ...rewardContext('p', 'c', {}), line: 0 }]),
    /reward 'g' returned "yes" on example at line 1 \(expected a finite number or null\)/,
  );
});
