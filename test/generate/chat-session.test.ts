// Multi-turn chat: template per turn, streamed reply split into reasoning and answer, history kept
// without the earlier reasoning, reset.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ChatSession, FALLBACK_CHAT_TEMPLATE, Generator } from '../../src/generate/index.ts';
import { tinyTokenizer } from './tiny-tokenizer.ts';
import { ScriptedModel } from './scripted-model.ts';

const tok = tinyTokenizer();
const EOS = tok.tokenToId('<|eos|>')!;

/** Replies "pondering N\n</think>\n\nanswer N" to the N-th user turn it can see in its context, then eos. */
function model(contexts: string[]): ScriptedModel {
  return new ScriptedModel(512, (ctx) => {
    const turn = ctx.filter((t) => t === tok.tokenToId('<|user|>')).length;
    // the generation prompt ends with '<think>\n'; the reply starts after it
    const start = ctx.lastIndexOf(tok.tokenToId('<think>')!) + 2;
    if (ctx.length === start) contexts.push(tok.decode(ctx, { skipSpecialTokens: true })); // the prompt, as the model sees it
    const reply = [...tok.encode(`pondering ${turn}\n`), tok.tokenToId('</think>')!, ...tok.encode(`\n\nanswer ${turn}`), EOS];
    return reply[Math.min(ctx.length - start, reply.length - 1)]!;
  });
}

async function collect(it: AsyncIterable<{ reasoning: string; content: string; finishReason: unknown }>) {
  let reasoning = '';
  let content = '';
  let pieces = 0;
  let finish: unknown = null;
  for await (const d of it) {
    reasoning += d.reasoning;
    content += d.content;
    pieces++;
    finish = d.finishReason ?? finish;
  }
  return { reasoning, content, pieces, finish };
}

test('a chat streams reasoning apart from the answer and feeds back only the answers', async () => {
  const contexts: string[] = [];
  const gen = new Generator(model(contexts), { tokenizer: tok, eosTokenIds: [EOS] });
  const chat = new ChatSession(gen, tok, { system: 'be brief', maxTokens: 64 });
  const r1 = await collect(chat.send('hello'));
  assert.deepEqual([r1.reasoning, r1.content, r1.finish], ['pondering 1', 'answer 1', 'stop']);
  assert.ok(r1.pieces > 3, 'streamed in several pieces');
  const r2 = await collect(chat.send('again'));
  assert.deepEqual([r2.reasoning, r2.content], ['pondering 2', 'answer 2']);
  assert.deepEqual(chat.history, [
    { role: 'system', content: 'be brief' },
    { role: 'user', content: 'hello' },
    { role: 'assistant', content: 'answer 1' },
    { role: 'user', content: 'again' },
    { role: 'assistant', content: 'answer 2' },
  ]);
  // The second prompt holds the first answer but not the first reasoning.
  const second = contexts.at(-1)!;
  assert.ok(second.includes('answer 1') && !second.includes('pondering 1'), second);
  assert.ok(second.startsWith('be brief'), 'system prompt first (bos is special and skipped)');

  chat.reset();
  assert.deepEqual(chat.history, [{ role: 'system', content: 'be brief' }]);
  const r3 = await collect(chat.send('fresh'));
  assert.equal(r3.content, 'answer 1');
});

test('a reply abandoned midway leaves the history as it was', async () => {
  const gen = new Generator(model([]), { tokenizer: tok, eosTokenIds: [EOS] });
  const chat = new ChatSession(gen, tok, { maxTokens: 64 });
  for await (const _ of chat.send('hi')) break;
  assert.deepEqual(chat.history, []);
});

test('when the conversation outgrows the context, the oldest exchanges are dropped (system kept), and the turn says so', async () => {
  const contexts: string[] = [];
  const gen = new Generator(model(contexts), { tokenizer: tok, eosTokenIds: [EOS], maxContext: 200 });
  const chat = new ChatSession(gen, tok, { system: 'be brief', maxTokens: 40 });
  const long = 'a question long enough to fill a small context quickly '; // ~40 tokens of the tiny tokenizer
  const dropped: number[] = [];
  for (let i = 0; i < 6; i++) {
    for await (const d of chat.send(`${long}${i}`)) if (d.dropped) dropped.push(d.dropped);
  }
  assert.ok(dropped.length > 0, 'some turns had to drop history');
  assert.ok(
    dropped.every((n) => n % 2 === 0),
    'whole exchanges are dropped',
  );
  const h = chat.history;
  assert.deepEqual(h[0], { role: 'system', content: 'be brief' });
  assert.equal(h.at(-2)!.content, `${long}5`, 'the newest exchange is kept');
  assert.ok(!h.some((t) => t.content === `${long}0`), 'the oldest exchange is gone');
  for (const c of contexts) assert.ok(tok.encode(c).length + 40 <= 200 || c.startsWith('be brief'), 'every prompt left room for the reply');
});

test('a turn that fails leaves the history as it was; a template-less tokenizer gets the plain layout; R1-style forces <think>', async () => {
  const gen = new Generator(model([]), { tokenizer: tok, eosTokenIds: [EOS], maxContext: 64 });
  const chat = new ChatSession(gen, tok, { maxTokens: 8 });
  await assert.rejects(async () => {
    for await (const _ of chat.send('x '.repeat(200))) void _;
  }, RangeError);
  assert.deepEqual(chat.history, []);

  const plain = new ChatSession(gen, tok, { chatTemplate: FALLBACK_CHAT_TEMPLATE });
  assert.equal(plain.render('hi'), '<|bos|>User: hi\n\nAssistant:');
  const noThink =
    "{% for m in messages %}<|user|>{{ m.content }}{% endfor %}<|assistant|>{# R1's first template: </think> is stripped from answers #}";
  const r1 = new ChatSession(gen, tok, { chatTemplate: noThink, reasoning: true });
  assert.equal(r1.render('hi'), '<|user|>hi<|assistant|><think>\n');
});
