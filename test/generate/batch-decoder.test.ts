// Continuous batching: sequences join between steps, decode together (one forward per step with
// B = live sequences), and leave when finished.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BatchDecoder, Generator } from '../../src/generate/index.ts';
import { loadModel } from '../../src/model/load.ts';
import { ScriptedModel } from './scripted-model.ts';
import { fixture, readGolden } from '../helpers/fixtures.ts';

/** Echo model: the next token is the last one + 1 (mod V). */
const echo = () => new ScriptedModel(64, (ctx) => (ctx[ctx.length - 1]! + 1) % 64);

test('one forward per step over all running sequences; finished ones drop out; newcomers join', () => {
  const model = echo();
  const d = new BatchDecoder(model);
  const a = d.add({ prompt: [1, 2, 3], maxTokens: 4 });
  const b = d.add({ prompt: [10], maxTokens: 2 });
  let ev = d.step().events; // prefill a and b (one forward each, different lengths)
  assert.deepEqual(model.calls, [{ B: 1, T: 3 }, { B: 1, T: 1 }]);
  assert.deepEqual(ev.map((e) => e.token), [4, 11]);
  ev = d.step().events; // a and b decode together; b reaches its 2 tokens
  assert.deepEqual(model.calls.at(-1), { B: 2, T: 1 });
  assert.deepEqual(ev.map((e) => [e.token, e.finishReason]), [[5, null], [12, 'length']]);
  const c = d.add({ prompt: [40, 41], maxTokens: 3, stopTokenIds: [44] });
  ev = d.step().events; // a decodes alone (b left), c is prefilled
  assert.deepEqual(model.calls.slice(-2), [{ B: 1, T: 1 }, { B: 1, T: 2 }]);
  assert.deepEqual(ev.map((e) => e.token), [6, 42]);
  ev = d.step().events; // a and c together
  assert.deepEqual(model.calls.at(-1), { B: 2, T: 1 });
  assert.deepEqual(ev.map((e) => [e.token, e.finishReason]), [[7, 'length'], [43, null]]);
  ev = d.step().events;
  assert.deepEqual(ev.map((e) => [e.token, e.finishReason]), [[44, 'stop']]);
  assert.ok(d.idle);
  assert.deepEqual(a.generated, [4, 5, 6, 7]);
  assert.deepEqual(b.generated, [11, 12]);
  assert.deepEqual(c.generated, [42, 43, 44]);
  assert.equal(c.stoppedBy, 44);
});

test('a cancelled sequence leaves at the next step; the context limit ends a sequence with "length"', () => {
  const d = new BatchDecoder(echo(), { maxContext: 6 });
  const a = d.add({ prompt: [1, 2, 3, 4], maxTokens: 100 });
  const b = d.add({ prompt: [9], maxTokens: 100 });
  d.step();
  d.cancel(b);
  const ev = d.step().events;
  assert.deepEqual(ev.map((e) => e.sequence), [a]);
  assert.equal(a.finishReason, 'length'); // 4 prompt + 2 generated = the context of 6
  assert.equal(b.finishReason, 'abort');
  assert.ok(d.idle);
  assert.throws(() => d.add({ prompt: [1, 2, 3, 4, 5, 6] }), /context/);
});

test('prompt ids outside the vocabulary are refused with a clear error', () => {
  const d = new BatchDecoder(echo());
  assert.throws(() => d.add({ prompt: [1, 64] }), /outside the model's vocabulary/);
  assert.throws(() => d.add({ prompt: [] }), /at least one token/);
});

test('streams of several prompts interleave by step and each matches its own greedy run (fixture model)', async () => {
  const golden = readGolden('qwen2_tiny');
  const prompt = [...golden.get('greedy_prompt')!.data].map(Number);
  const gen = Generator.forModel(loadModel(fixture('models', 'qwen2_tiny')));
  const prompts = [prompt, prompt.slice(3), prompt.slice(0, 2)];
  const opts = { maxTokens: 5, sampling: { temperature: 0 }, stopTokenIds: [] };
  const alone = prompts.map((p) => gen.generate([p], opts)[0]!.ids);
  const got: number[][] = [[], [], []];
  const order: number[] = [];
  for await (const e of gen.stream(prompts, opts)) {
    got[e.index]!.push(e.token);
    order.push(e.index);
  }
  assert.deepEqual(got, alone);
  assert.deepEqual(got[0], [...golden.get('greedy_output')!.data].map(Number).slice(0, 5));
  assert.deepEqual(order.slice(0, 6), [0, 1, 2, 0, 1, 2]);
});

test('seeded sampling through the model is reproducible', () => {
  const gen = Generator.forModel(loadModel(fixture('models', 'llama_tiny')));
  const opts = { maxTokens: 6, sampling: { temperature: 1.2, topP: 0.95, topK: 50, seed: 42 }, stopTokenIds: [] };
  const a = gen.generate([[5, 6, 7]], opts)[0]!.ids;
  const b = gen.generate([[5, 6, 7]], opts)[0]!.ids;
  assert.deepEqual(a, b);
  const others = [1, 2, 3, 4].map((seed) => gen.generate([[5, 6, 7]], { ...opts, sampling: { ...opts.sampling, seed } })[0]!.ids);
  assert.ok(others.some((o) => o.join() !== a.join()), 'other seeds give other samples');
});
