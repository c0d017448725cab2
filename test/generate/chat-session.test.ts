// Multi-turn chat: template per turn, streamed reply split into reasoning and answer, history kept
// without the earlier reasoning, reset.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ChatSession, Generator } from '../../src/generate/index.ts';
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
