import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ChatOutput, specialTokenPattern } from '../../src/serve/chat/output.ts';
import { describeTools, withoutThinking } from '../../src/serve/chat/prompt.ts';
import { toolDialectFor } from '../../src/serve/chat/tool-dialects.ts';
import { loadTokenizer } from '../../src/tokenizer/index.ts';
import { tinyModelDir } from './tiny-server.ts';

const deepseek = () => toolDialectFor(loadTokenizer(tinyModelDir('v3')));

/** Feeds `text` in pieces of `size` characters; returns what came out of each channel. */
function feed(out: ChatOutput, text: string, size: number) {
  let reasoning = '';
  let content = '';
  for (let i = 0; i < text.length; i += size) {
    const d = out.push(text.slice(i, i + size));
    reasoning += d.reasoning;
    content += d.content;
  }
  const end = out.finish();
  return { reasoning: reasoning + end.delta.reasoning, content: content + end.delta.content, calls: end.toolCalls };
}

const DS_CALLS =
  'Let me check.<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>get_weather\n```json\n{"city": "Paris"}\n```<｜tool▁call▁end｜>\n' +
  '<｜tool▁call▁begin｜>function<｜tool▁sep｜>get_time\n```json\n{}\n```<｜tool▁call▁end｜><｜tool▁calls▁end｜>';

test('DeepSeek tool calls in an output become tool_calls, whatever the delta boundaries', () => {
  for (const size of [1, 3, 7, 1000]) {
    const r = feed(new ChatOutput({ reasoning: false, opensThinking: false, tools: deepseek(), strip: null }), DS_CALLS, size);
    assert.equal(r.content, 'Let me check.', `size ${size}`);
    assert.deepEqual(
      r.calls.map((c) => [c.function.name, JSON.parse(c.function.arguments)]),
      [
        ['get_weather', { city: 'Paris' }],
        ['get_time', {}],
      ],
    );
    assert.ok(r.calls.every((c) => c.type === 'function' && /^call_[0-9a-f]{24}$/.test(c.id)));
  }
  // V3.1's shorter form: name, separator, arguments.
  const v31 = deepseek().parse(
    '<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>get_time<｜tool▁sep｜>{"tz": "UTC"}<｜tool▁call▁end｜><｜tool▁calls▁end｜>',
  );
  assert.deepEqual(
    v31.map((c) => [c.function.name, c.function.arguments]),
    [['get_time', '{"tz": "UTC"}']],
  );
});

test('an unfinished tool call falls back to content; other special tokens are dropped', () => {
  const strip = specialTokenPattern(['<｜User｜>', '<｜tool▁calls▁begin｜>', '<｜tool▁call▁begin｜>', '<｜tool▁sep｜>'], []);
  // Deltas as tokens release them: a special token's text arrives whole.
  const out = new ChatOutput({ reasoning: false, opensThinking: false, tools: deepseek(), strip });
  const deltas = [
    'Hi',
    '<｜User｜>',
    ' the',
    're',
    '<｜tool▁calls▁begin｜>',
    '<｜tool▁call▁begin｜>',
    'function',
    '<｜tool▁sep｜>',
    'get_wea',
  ];
  const content = deltas.map((d) => out.push(d).content).join('');
  const end = out.finish();
  assert.deepEqual(end.toolCalls, []);
  assert.equal(content + end.delta.content, 'Hi therefunctionget_wea');
});

test('Hermes-style calls (the fallback dialect) are read too', () => {
  assert.equal(deepseek().name, 'deepseek');
  // A tokenizer without DeepSeek's tool tokens gets the Hermes dialect.
  const plain = { tokenToId: () => undefined } as unknown as Parameters<typeof toolDialectFor>[0];
  const d = toolDialectFor(plain);
  assert.equal(d.name, 'hermes');
  const r = feed(
    new ChatOutput({ reasoning: false, opensThinking: false, tools: d, strip: null }),
    'Sure. <tool_call>\n{"name": "get_time", "arguments": {"tz": "UTC"}}\n</tool_call>',
    5,
  );
  assert.equal(r.content, 'Sure. ');
  assert.deepEqual(
    r.calls.map((c) => [c.function.name, c.function.arguments]),
    [['get_time', '{"tz":"UTC"}']],
  );
});

test('reasoning and answer are split, and a partial tool marker is held, not leaked', () => {
  const out = new ChatOutput({ reasoning: true, opensThinking: true, tools: deepseek(), strip: null });
  const r = feed(out, 'I should call a tool.\n</think>\n\nOK<｜tool▁calls', 2);
  assert.equal(r.reasoning, 'I should call a tool.');
  assert.equal(r.content, 'OK<｜tool▁calls', 'not a marker after all: released at the end');
});

test('earlier reasoning is removed from history; tools are described for templates that do not render them', () => {
  assert.equal(withoutThinking('<think>\nhmm\n</think>\n\nHello'), 'Hello');
  assert.equal(withoutThinking('Hello'), 'Hello');
  const text = describeTools([
    {
      type: 'function',
      function: { name: 'get_weather', description: 'Weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } },
    },
  ]);
  assert.match(text, /^## Tools\n\n### Function\n\nYou have the following functions available:\n\n- `get_weather`:\n```json\n\{/);
  assert.equal(JSON.parse(text.slice(text.indexOf('```json\n') + 8, text.lastIndexOf('```'))).name, 'get_weather');
});
