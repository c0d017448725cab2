// Splitting DeepSeek-R1 output into reasoning and answer, whole and streamed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { splitThinking, ThinkingSplitter, promptOpensThinking, type ThinkingOptions } from '../../src/generate/index.ts';

/** Streams `text` in pieces of `size` characters and joins what each side received. */
function streamed(text: string, size: number, opts: ThinkingOptions = {}): { reasoning: string; content: string } {
  const s = new ThinkingSplitter(opts);
  let reasoning = '';
  let content = '';
  for (let i = 0; i < text.length; i += size) {
    const d = s.push(text.slice(i, i + size));
    reasoning += d.reasoning;
    content += d.content;
  }
  const d = s.flush();
  return { reasoning: reasoning + d.reasoning, content: content + d.content };
}

const cases: [string, string, ThinkingOptions, { reasoning: string; content: string }][] = [
  [
    'tags in the output',
    '<think>\nLet me add: 2+2=4.\n</think>\n\nThe answer is 4.',
    {},
    { reasoning: 'Let me add: 2+2=4.', content: 'The answer is 4.' },
  ],
  [
    'R1 template opened <think> in the prompt',
    'Hmm, 2+2.\nSo 4.\n</think>\n\n4',
    { startInReasoning: true },
    { reasoning: 'Hmm, 2+2.\nSo 4.', content: '4' },
  ],
  ['no thinking at all', 'Just an answer.', {}, { reasoning: '', content: 'Just an answer.' }],
  [
    'a late <think> is ordinary text',
    'Use the <think> tag like </think> this.',
    {},
    { reasoning: '', content: 'Use the <think> tag like </think> this.' },
  ],
  ['output cut inside the reasoning', '<think>\nstill thinking about </thi', {}, { reasoning: 'still thinking about </thi', content: '' }],
  ['only a second </think> stays in the answer', '<think>a</think>b</think>c', {}, { reasoning: 'a', content: 'b</think>c' }],
  ['empty reasoning', '<think>\n\n</think>\n\nHello', {}, { reasoning: '', content: 'Hello' }],
  ['inner whitespace kept', '<think> a \n b </think> x  y ', {}, { reasoning: 'a \n b', content: 'x  y ' }],
  ['a "<" that is no tag', '<thimble> and <b>', {}, { reasoning: '', content: '<thimble> and <b>' }],
];

for (const [name, text, opts, expected] of cases) {
  test(`splitThinking: ${name}`, () => {
    assert.deepEqual(splitThinking(text, opts), expected);
    // Every chunking of the stream routes the same text to the same side.
    for (const size of [1, 2, 3, 5, 7]) assert.deepEqual(streamed(text, size, opts), expected, `chunks of ${size}`);
  });
}

test('streaming: a tag split across deltas is held back, then routed, and nothing leaks to the wrong side', () => {
  const s = new ThinkingSplitter({ startInReasoning: true });
  assert.deepEqual(s.push('step one'), { reasoning: 'step one', content: '' });
  assert.deepEqual(s.push(' </th'), { reasoning: '', content: '' }); // the space may be trailing; '</th' may be the tag
  assert.ok(s.inReasoning);
  assert.deepEqual(s.push('ink>\n\nAns'), { reasoning: '', content: 'Ans' });
  assert.ok(!s.inReasoning);
  assert.deepEqual(s.push('wer'), { reasoning: '', content: 'wer' });
  assert.deepEqual(s.flush(), { reasoning: '', content: '' });
});

test('streaming: an opening tag split across deltas at the start', () => {
  const s = new ThinkingSplitter();
  assert.deepEqual(s.push('\n<th'), { reasoning: '', content: '' });
  assert.deepEqual(s.push('ink>ok'), { reasoning: 'ok', content: '' });
  assert.ok(s.sawReasoning);
});

test('promptOpensThinking recognises the R1 generation prompt', () => {
  assert.ok(promptOpensThinking('<｜User｜>hi<｜Assistant｜><think>\n'));
  assert.ok(!promptOpensThinking('<｜User｜>hi<｜Assistant｜>'));
});
