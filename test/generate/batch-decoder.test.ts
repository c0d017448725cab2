// Continuous batching: sequences join between steps, decode together (one forward per step with
// B = live sequences), and leave when finished.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BatchDecoder, Generator, type TokenConstraint } from '../../src/generate/index.ts';
import type { Tensor } from '../../src/tensor/index.ts';
import type { ForwardOptions } from '../../src/model/causal-lm.ts';
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
  assert.deepEqual(model.calls, [
    { B: 1, T: 3 },
    { B: 1, T: 1 },
  ]);
  assert.deepEqual(
    ev.map((e) => e.token),
    [4, 11],
  );
  ev = d.step().events; // a and b decode together; b reaches its 2 tokens
  assert.deepEqual(model.calls.at(-1), { B: 2, T: 1 });
  assert.deepEqual(
    ev.map((e) => [e.token, e.finishReason]),
    [
      [5, null],
      [12, 'length'],
    ],
  );
  const c = d.add({ prompt: [40, 41], maxTokens: 3, stopTokenIds: [44] });
  ev = d.step().events; // a decodes alone (b left), c is prefilled
  assert.deepEqual(model.calls.slice(-2), [
    { B: 1, T: 1 },
    { B: 1, T: 2 },
  ]);
  assert.deepEqual(
    ev.map((e) => e.token),
    [6, 42],
  );
  ev = d.step().events; // a and c together
  assert.deepEqual(model.calls.at(-1), { B: 2, T: 1 });
  assert.deepEqual(
    ev.map((e) => [e.token, e.finishReason]),
    [
      [7, 'length'],
      [43, null],
    ],
  );
  ev = d.step().events;
  assert.deepEqual(
    ev.map((e) => [e.token, e.finishReason]),
    [[44, 'stop']],
  );
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
  assert.deepEqual(
    ev.map((e) => e.sequence),
    [a],
  );
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
  assert.ok(
    others.some((o) => o.join() !== a.join()),
    'other seeds give other samples',
  );
});

/** A constraint that allows `allows` and throws from `accept` after `acceptThrowsAfter` tokens, as a buggy grammar would. */
function constraint(o: { allows: (id: number) => boolean; acceptThrowsAfter?: number }): TokenConstraint {
  let accepted = 0;
  return {
    done: false,
    filters: true,
    forced: () => null,
    allows: (id) => o.allows(id),
    accept: () => {
      if (o.acceptThrowsAfter !== undefined && ++accepted > o.acceptThrowsAfter) throw new Error('the grammar broke');
    },
    minTokens: () => 0,
  };
}

test('maxBatch: a newcomer waits for a slot and joins mid-flight when one frees up', () => {
  const d = new BatchDecoder(echo(), { maxBatch: 2 });
  const a = d.add({ prompt: [1], maxTokens: 2 });
  const b = d.add({ prompt: [10], maxTokens: 5 });
  const c = d.add({ prompt: [20], maxTokens: 2 });
  let r = d.step();
  assert.deepEqual(r.admitted, [a, b]);
  assert.deepEqual(d.waiting, [c]);
  r = d.step(); // a finishes
  assert.deepEqual(r.finished, [a]);
  r = d.step(); // c joins while b keeps decoding
  assert.deepEqual(r.admitted, [c]);
  assert.deepEqual(
    r.events.map((e) => [e.sequence, e.token]),
    [
      [b, 13],
      [c, 21],
    ],
  );
  while (!d.idle) d.step();
  assert.deepEqual(b.generated, [11, 12, 13, 14, 15]);
  assert.deepEqual(c.generated, [21, 22]);
});

test('chunked prefill: a prompt runs in chunks within the per-step budget; equal chunks share a forward', () => {
  const model = echo();
  const d = new BatchDecoder(model, { prefillChunk: 4 });
  const a = d.add({ prompt: [1, 2, 3, 4, 5, 6], maxTokens: 2 });
  let r = d.step();
  assert.deepEqual([r.prefilled, r.events.length, a.prefilled], [4, 0, 4]);
  r = d.step();
  assert.deepEqual(
    r.events.map((e) => e.token),
    [7],
  );
  const b = d.add({ prompt: [30, 31], maxTokens: 1 });
  const c = d.add({ prompt: [40, 41], maxTokens: 1 });
  model.calls.length = 0;
  r = d.step(); // a decodes; b and c prefill together in one [2, 2] forward
  assert.deepEqual(model.calls, [
    { B: 1, T: 1 },
    { B: 2, T: 2 },
  ]);
  assert.deepEqual(
    r.events.map((e) => [e.sequence, e.token]),
    [
      [a, 8],
      [b, 32],
      [c, 42],
    ],
  );
  assert.ok(d.idle);
});

test('a sequence whose constraint throws fails alone; the rest of the batch keeps its tokens', () => {
  const d = new BatchDecoder(echo());
  const good = d.add({ prompt: [1], maxTokens: 6 });
  const bad = d.add({ prompt: [10], maxTokens: 6, constraint: constraint({ allows: () => true, acceptThrowsAfter: 2 }) });
  const left: unknown[] = [];
  while (!d.idle) left.push(...d.step().finished);
  assert.deepEqual(good.generated, [2, 3, 4, 5, 6, 7]);
  assert.equal(good.finishReason, 'length');
  assert.ok(bad.failed);
  assert.match(String(bad.error), /grammar broke/);
  assert.equal(bad.finishReason, 'abort');
  assert.deepEqual(left, [bad, good]);
});

test('a constraint that allows no token ends the sequence with length and no event', () => {
  const d = new BatchDecoder(echo());
  const s = d.add({ prompt: [1], maxTokens: 5, constraint: constraint({ allows: () => false }) });
  const r = d.step();
  assert.deepEqual(r.events, []);
  assert.deepEqual(r.finished, [s]);
  assert.equal(s.finishReason, 'length');
  assert.equal(s.failed, false);
});

test('logit bias, a constraint mask and logprobs are applied by the loop', () => {
  const d = new BatchDecoder(echo());
  const biased = d.add({ prompt: [1], maxTokens: 1, logitBias: new Map([[9, 300]]) });
  const masked = d.add({ prompt: [1], maxTokens: 1, constraint: constraint({ allows: (id) => id === 5 }) });
  const scored = d.add({ prompt: [1], maxTokens: 1, logprobs: 2 });
  const ev = d.step().events;
  assert.deepEqual([biased.generated, masked.generated, scored.generated], [[9], [5], [2]]);
  const lp = ev.find((e) => e.sequence === scored)!.logprob!;
  assert.ok(Math.abs(lp.logprob) < 1e-6);
  assert.equal(lp.top.length, 2);
  assert.equal(lp.top[0]!.id, 2);
  assert.equal(ev.find((e) => e.sequence === biased)!.logprob, undefined);
});

test('a forward that throws fails the sequences it carried; step() does not throw and the loop goes on', () => {
  const inner = echo();
  let broken = false;
  const model = {
    vocabSize: 64,
    newCache: (n: number) => inner.newCache(n),
    forward: (ids: Tensor, o: ForwardOptions) => {
      if (broken && ids.shape[1] === 1 && ids.shape[0] === 2) throw new Error('kernel exploded');
      return inner.forward(ids, o);
    },
  };
  const d = new BatchDecoder(model);
  const a = d.add({ prompt: [1], maxTokens: 5 });
  const b = d.add({ prompt: [10], maxTokens: 5 });
  d.step();
  broken = true;
  const c = d.add({ prompt: [20, 21], maxTokens: 2 });
  const r = d.step(); // the decode of a and b fails; c's prefill is a separate forward and goes on
  assert.deepEqual(r.finished, [a, b]);
  assert.match(String(a.error), /kernel exploded/);
  assert.deepEqual(
    r.events.map((e) => e.sequence),
    [c],
  );
  broken = false;
  while (!d.idle) d.step();
  assert.deepEqual(c.generated, [22, 23]);
  // The library call surfaces the failure instead of returning a partial result.
  broken = true;
  assert.throws(() => new Generator(model).generate([[1], [2]], { maxTokens: 3 }), /kernel exploded/);
});

test('cache reuse hook: caches come from it at admission and go back when a sequence leaves, never from a failed one', () => {
  const inserted: number[][] = [];
  const lookups: number[] = [];
  const model = echo();
  const prefixes = {
    lookup: (ids: readonly number[], maxLength: number) => (lookups.push(maxLength), null),
    insert: (ids: readonly number[]) => void inserted.push([...ids]),
  };
  const d = new BatchDecoder(model, { prefixes });
  const done = d.add({ prompt: [1, 2], maxTokens: 2 });
  const cancelled = d.add({ prompt: [5], maxTokens: 9 });
  const failing = d.add({ prompt: [7], maxTokens: 9, constraint: constraint({ allows: () => true, acceptThrowsAfter: 0 }) });
  d.step();
  assert.deepEqual(lookups, [1, 0, 0]);
  assert.ok(failing.failed);
  d.cancel(cancelled);
  const r = d.step();
  assert.ok(r.finished.includes(cancelled) && cancelled.finishReason === 'abort');
  assert.ok(
    r.events.every((e) => e.sequence !== cancelled),
    'a cancelled sequence produces no more tokens',
  );
  assert.ok(d.idle);
  // Each cache holds what was fed (the prompt and all output but the last token); the failed one's is dropped.
  assert.deepEqual(inserted, [[5], [1, 2, 3]]);
  assert.equal(done.cache, null);
});

test('a cancelled sequence frees its slot for a waiting one in the same step', () => {
  const d = new BatchDecoder(echo(), { maxBatch: 1 });
  const a = d.add({ prompt: [1], maxTokens: 50 });
  const b = d.add({ prompt: [10], maxTokens: 2 });
  d.step();
  assert.equal(d.cancel(a), false, 'a running sequence leaves at the next step');
  const r = d.step();
  assert.deepEqual([r.finished, r.admitted], [[a], [b]]);
  assert.deepEqual(
    r.events.map((e) => [e.sequence, e.token]),
    [[b, 11]],
  );
  assert.equal(d.cancel(d.add({ prompt: [3] })), true, 'a waiting one leaves at once');
});
