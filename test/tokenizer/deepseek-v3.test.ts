// The released DeepSeek-V3 tokenizer against the reference encodings and chat renders.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadTokenizer } from '../../src/tokenizer/index.ts';
import { deepseekV3Dir, publicFixture } from './paths.ts';

const fixture = publicFixture();
const tok = loadTokenizer(deepseekV3Dir());

test('fixture covers what it claims', () => {
  assert.equal(fixture.encode.length, 26);
  assert.equal(fixture.chat.length, 3);
});

test('ids equal the reference for every fixture string (no special tokens added)', () => {
  for (const e of fixture.encode) {
    assert.deepEqual(tok.encode(e.text), e.ids, `ids of ${JSON.stringify(e.text)}`);
  }
});

test('decode(encode(s)) = s, and decode(reference ids) = reference decoded', () => {
  for (const e of fixture.encode) {
    assert.equal(tok.decode(tok.encode(e.text)), e.text);
    assert.equal(tok.decode(e.ids), e.decoded);
  }
});

test('special tokens in the text become single ids; addSpecialTokens prepends BOS', () => {
  assert.deepEqual(tok.encode('<｜User｜>'), [128803]);
  assert.deepEqual(tok.encode('Hello, world!', { addSpecialTokens: true }), [0, 19923, 14, 2058, 3]);
  assert.equal(tok.decode([0, 19923, 1], { skipSpecialTokens: true }), 'Hello');
  assert.equal(tok.decode([0, 19923, 1]), '<｜begin▁of▁sentence｜>Hello<｜end▁of▁sentence｜>');
  assert.equal(tok.tokenToId('<｜end▁of▁sentence｜>'), 1);
  assert.equal(tok.idToToken(19923), 'Hello');
  assert.equal(tok.vocabSize, 128815);
  assert.ok(tok.isSpecial(0) && !tok.isSpecial(19923));
  const sample = fixture.encode[3]!;
  assert.deepEqual([...tok.encodeToInt32(sample.text)], sample.ids);
  assert.deepEqual(tok.tokenize('Hello, world'), ['Hello', ',', 'Ġworld']);
  assert.equal(tok.specialTokens.bos_token, '<｜begin▁of▁sentence｜>');
});

test('chat template renders equal the reference', () => {
  for (const c of fixture.chat) {
    const rendered = tok.applyChatTemplate(c.messages, { addGenerationPrompt: c.add_generation_prompt });
    assert.equal(rendered, c.rendered);
  }
});

test('chat ids: the rendered prompt encodes to BOS, role markers and content ids', () => {
  // The fixture's chat[i].ids hold ["input_ids", "attention_mask"] (the keys of a BatchEncoding,
  // a fixture-generation slip), so the ids are checked here against the encode fixture instead.
  for (const c of fixture.chat) {
    if (c.ids.every((x) => typeof x === 'number'))
      assert.deepEqual(tok.encodeChat(c.messages, { addGenerationPrompt: c.add_generation_prompt }), c.ids);
  }
  const ids = tok.encodeChat(fixture.chat[0]!.messages, { addGenerationPrompt: true });
  const hello = fixture.encode.find((e) => e.text.includes('"content": "你好"'))!;
  assert.ok(hello.ids.includes(30594), '你好 is token 30594 in the encode fixture');
  assert.deepEqual(ids, [0, 128803, 30594, 128804]);
  const ids2 = tok.encodeChat(fixture.chat[2]!.messages, { addGenerationPrompt: false });
  assert.equal(ids2[0], 0);
  assert.equal(ids2.at(-1), 1);
  assert.equal(tok.decode(ids2), fixture.chat[2]!.rendered);
});

test('chat template with tool calls and tool outputs (expected text rendered by Python Jinja2 as transformers does)', () => {
  const messages = [
    { role: 'user', content: 'Weather in Paris?' },
    {
      role: 'assistant',
      content: null,
      tool_calls: [
        { type: 'function', function: { name: 'get_weather', arguments: '{"city": "Paris"}' } },
        { type: 'function', function: { name: 'get_time', arguments: '{}' } },
      ],
    },
    { role: 'tool', content: '{"temp": 21}' },
    { role: 'tool', content: '12:00' },
    { role: 'assistant', content: 'It is 21 °C.' },
  ];
  const expected =
    '<｜begin▁of▁sentence｜><｜User｜>Weather in Paris?<｜Assistant｜><｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>get_weather\n```json\n{"city": "Paris"}\n```<｜tool▁call▁end｜>\n<｜tool▁call▁begin｜>function<｜tool▁sep｜>get_time\n```json\n{}\n```<｜tool▁call▁end｜><｜tool▁calls▁end｜><｜end▁of▁sentence｜><｜tool▁outputs▁begin｜><｜tool▁output▁begin｜>{"temp": 21}<｜tool▁output▁end｜>\n<｜tool▁output▁begin｜>12:00<｜tool▁output▁end｜><｜tool▁outputs▁end｜>It is 21 °C.<｜end▁of▁sentence｜>';
  assert.equal(tok.applyChatTemplate(messages, { addGenerationPrompt: false }), expected);
  const open = tok.applyChatTemplate(
    [
      { role: 'system', content: 'S1' },
      { role: 'user', content: 'a' },
      { role: 'tool', content: 'out' },
    ],
    { addGenerationPrompt: true },
  );
  assert.equal(
    open,
    '<｜begin▁of▁sentence｜>S1<｜User｜>a<｜tool▁outputs▁begin｜><｜tool▁output▁begin｜>out<｜tool▁output▁end｜><｜tool▁outputs▁end｜>',
  );
});

test('long and unusual inputs round-trip', () => {
  const samples = [
    'x'.repeat(5000),
    '中文'.repeat(3000),
    '\u{1F600}'.repeat(100) + '\ud800 lone surrogate',
    '\t\n\r\v\f\u0085\u00a0\u2028\u3000 mixed spaces',
    'ÅΩ℃ﬁ ﬀ Ⅻ ½ ² ①',
  ];
  for (const s of samples.slice(0, 2)) assert.equal(tok.decode(tok.encode(s)), s);
  // A lone surrogate is not valid UTF-8: it becomes U+FFFD, as in HF (Rust strings cannot hold it).
  assert.equal(tok.decode(tok.encode(samples[2]!)), samples[2]!.replace('\ud800', '\ufffd'));
  for (const s of samples.slice(3)) assert.equal(tok.decode(tok.encode(s)), s);
});
