import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadServedModel, type ServedModel } from '../../src/serve/index.ts';
import { OverloadedError, QueueFullError, Scheduler, type EngineRequest, type SchedulerOptions } from '../../src/serve/engine/scheduler.ts';
import type { Generation } from '../../src/serve/engine/generation.ts';
import type { TokenConstraint } from '../../src/serve/constrain/constraint.ts';
import { tinyModelDir } from './tiny-server.ts';
import { Generator } from '../../src/generate/index.ts';

let served: ServedModel | null = null;
const model = () => (served ??= loadServedModel(tinyModelDir('v3')));

const scheduler = (o: Partial<SchedulerOptions> = {}) =>
  new Scheduler(model().model, { decoder: model().tokenizer, maxContext: 512, ...o });

function prompt(text: string): number[] {
  return model().tokenizer.encode(model().tokenizer.applyChatTemplate([{ role: 'user', content: text }], { addGenerationPrompt: true }));
}

const greedy = (ids: number[], maxTokens = 12): EngineRequest => ({ prompt: ids, maxTokens, sampling: { temperature: 0 } });

async function collect(g: Generation): Promise<number[]> {
  const ids: number[] = [];
  for await (const e of g) if (e.token >= 0) ids.push(e.token);
  return ids;
}

const PROMPTS = ['Hello there!', 'What is the weather like in Paris today?', 'Write a haiku about the sea.', 'def fib(n):'];

test('concurrent requests decode as one batch and give the tokens each gives alone', async () => {
  const alone: number[][] = [];
  for (const p of PROMPTS) alone.push(await collect(scheduler().submit(greedy(prompt(p)))));
  const s = scheduler();
  const batches: number[] = [];
  s.onStep = (i) => batches.push(i.decoded);
  const together = await Promise.all(PROMPTS.map((p) => collect(s.submit(greedy(prompt(p))))));
  assert.deepEqual(together, alone);
  assert.equal(Math.max(...batches), PROMPTS.length, 'all four decoded in the same forward');
});

test('a request joins a running batch between steps', async () => {
  const s = scheduler();
  const batches: number[] = [];
  s.onStep = (i) => batches.push(i.decoded);
  const first = s.submit(greedy(prompt(PROMPTS[0]!), 16));
  const it = first[Symbol.asyncIterator]();
  await it.next(); // the first is running
  await it.next();
  const second = s.submit(greedy(prompt(PROMPTS[1]!), 4));
  const [a, b] = await Promise.all([
    (async () => {
      let n = 2;
      while (!(await it.next()).done) n++;
      return n;
    })(),
    collect(second),
  ]);
  assert.equal(a, 16);
  assert.equal(b.length, 4);
  assert.ok(batches.includes(2), `no step decoded both: ${batches}`);
  assert.equal(batches[0], 0, 'the first step only prefilled');
});

test('the prefix cache reuses an earlier prompt and changes nothing in the output', async () => {
  const s = scheduler({ prefixCache: { blockSize: 4 } });
  const ids = prompt('Tell me about the weather in Berlin and in Paris, please.');
  const first = s.submit(greedy(ids));
  const a = await collect(first);
  assert.equal(first.cachedTokens, 0);
  const second = s.submit(greedy(ids));
  const b = await collect(second);
  assert.deepEqual(b, a);
  assert.ok(second.cachedTokens >= ids.length - 4 && second.cachedTokens < ids.length, `cached ${second.cachedTokens} of ${ids.length}`);
  // A continuation of the conversation hits the prompt and the answer it generated.
  const longer = [...ids, ...a, ...prompt('And tomorrow?')];
  const third = s.submit(greedy(longer, 4));
  await collect(third);
  assert.ok(third.cachedTokens > ids.length, `cached ${third.cachedTokens}, prompt ${ids.length}`);
  assert.ok(s.prefixCache.size > 0);
});

test('chunked prefill gives the same output as one forward', async () => {
  const ids = prompt('A long prompt, to be prefilled in small chunks over several steps. '.repeat(3));
  const whole = await collect(scheduler().submit(greedy(ids)));
  const s = scheduler({ prefillChunk: 5 });
  const steps: number[] = [];
  s.onStep = (i) => steps.push(i.prefilled);
  const chunked = await collect(s.submit(greedy(ids)));
  assert.deepEqual(chunked, whole);
  assert.ok(steps.filter((n) => n > 0).length >= Math.ceil(ids.length / 5));
});

test('cancel stops a generation; a full queue refuses; a long wait is an overload', async () => {
  // The queue timeout runs on a clock the test moves: no outcome depends on how fast the machine is.
  let skipped = 0;
  const s = scheduler({ maxBatch: 1, maxQueue: 1, queueTimeoutMs: 60_000, now: () => performance.now() + skipped });
  const running = s.submit({ ...greedy(prompt('Hi'), 400), stopTokenIds: [] });
  const waiting = s.submit(greedy(prompt('Hello')));
  assert.throws(() => s.submit(greedy(prompt('Hey'))), QueueFullError);
  const it = running[Symbol.asyncIterator]();
  await it.next();
  // The waiting request times out while the first one holds the only slot.
  skipped = 120_000;
  await assert.rejects(collect(waiting), OverloadedError);
  running.cancel();
  let n = 1;
  while (!(await it.next()).done) n++;
  assert.equal(running.finishReason, 'abort');
  assert.ok(n < 400, `${n} tokens`);
  assert.equal(s.runningCount, 0);
  // Cancelling a queued request ends it at once.
  const s2 = scheduler({ maxBatch: 1 });
  const busy = s2.submit({ ...greedy(prompt('Hi'), 50) });
  const queued = s2.submit(greedy(prompt('Hello')));
  queued.cancel();
  assert.deepEqual(await collect(queued), []);
  assert.equal(queued.finishReason, 'abort');
  busy.cancel();
  await collect(busy);
});

test('prompts that cannot run are refused up front', () => {
  const s = scheduler();
  assert.throws(() => s.submit(greedy([])), RangeError);
  assert.throws(() => s.submit(greedy([1, 99999])), RangeError);
  assert.throws(() => s.submit(greedy(new Array(600).fill(5))), RangeError);
});

test('a failing forward ends the requests in that batch, and the scheduler keeps serving', async () => {
  const real = model().model;
  let broken = true;
  const flaky = {
    vocabSize: real.vocabSize,
    newCache: (n: number) => real.newCache(n),
    forward: (ids: Parameters<typeof real.forward>[0], o: Parameters<typeof real.forward>[1]) => {
      if (broken) throw new Error('kernel exploded');
      return real.forward(ids, o);
    },
  };
  const s = new Scheduler(flaky, { decoder: model().tokenizer, maxContext: 512 });
  const silence = console.error;
  console.error = () => {}; // the scheduler logs the failure; keep the test output clean
  try {
    await assert.rejects(collect(s.submit(greedy(prompt('Hi')))), /kernel exploded/);
  } finally {
    console.error = silence;
  }
  broken = false;
  assert.equal((await collect(s.submit(greedy(prompt('Hi'), 3)))).length, 3);
});

/** A constraint that lets `legal` tokens through for a while, then breaks as a buggy grammar would. */
function constraint(o: { allows: (id: number) => boolean; acceptThrowsAfter?: number }): TokenConstraint {
  let accepted = 0;
  return {
    done: false,
    filters: true,
    forced: () => null,
    allows: (id) => o.allows(id),
    accept: () => {
      if (o.acceptThrowsAfter !== undefined && ++accepted > o.acceptThrowsAfter) throw new Error('token 7 is not valid JSON here');
    },
    minTokens: () => 0,
  };
}

test('a sequence whose constraint fails ends alone; the others in the batch keep going', async () => {
  const s = scheduler();
  const alone = await collect(scheduler().submit({ ...greedy(prompt(PROMPTS[1]!), 20), stopTokenIds: [] }));
  const good = s.submit({ ...greedy(prompt(PROMPTS[1]!), 20), stopTokenIds: [] });
  const bad = s.submit({
    ...greedy(prompt(PROMPTS[0]!), 20),
    stopTokenIds: [],
    constraint: constraint({ allows: () => true, acceptThrowsAfter: 3 }),
  });
  const silence = console.error;
  console.error = () => {};
  try {
    const [g, b] = await Promise.allSettled([collect(good), collect(bad)]);
    assert.equal(b.status, 'rejected');
    assert.match(String((b as PromiseRejectedResult).reason), /not valid JSON/);
    assert.equal(g.status, 'fulfilled', String((g as PromiseRejectedResult).reason));
    assert.deepEqual((g as PromiseFulfilledResult<number[]>).value, alone);
  } finally {
    console.error = silence;
  }
  assert.equal(good.finishReason, 'length');
  assert.equal(s.runningCount, 0);
});

test('a constraint that allows no token ends the output with length, not an illegal token', async () => {
  const s = scheduler();
  const gen = s.submit({ ...greedy(prompt('Hi'), 20), stopTokenIds: [], constraint: constraint({ allows: () => false }) });
  assert.deepEqual(await collect(gen), []);
  assert.equal(gen.finishReason, 'length');
});

test('cancelling one generation mid-flight leaves the others of the batch untouched', async () => {
  const alone = await collect(scheduler().submit({ ...greedy(prompt(PROMPTS[1]!), 20), stopTokenIds: [] }));
  const s = scheduler();
  const keep = s.submit({ ...greedy(prompt(PROMPTS[1]!), 20), stopTokenIds: [] });
  const drop = s.submit({ ...greedy(prompt(PROMPTS[2]!), 200), stopTokenIds: [] });
  const it = drop[Symbol.asyncIterator]();
  await it.next();
  await it.next();
  drop.cancel();
  let n = 2;
  while (!(await it.next()).done) n++;
  assert.equal(drop.finishReason, 'abort');
  assert.ok(n < 200, `${n} events`);
  assert.deepEqual(await collect(keep), alone);
  assert.equal(s.runningCount, 0);
  assert.ok(s.prefixCache.size > 0, "the cancelled sequence's caches were still good and were kept");
});

test('close aborts queued and running generations and refuses new ones', async () => {
  const s = scheduler({ maxBatch: 1 });
  const running = s.submit({ ...greedy(prompt('Hi'), 300), stopTokenIds: [] });
  const queued = s.submit(greedy(prompt('Hello')));
  const it = running[Symbol.asyncIterator]();
  await it.next();
  s.close();
  assert.throws(() => s.submit(greedy(prompt('Hey'))), OverloadedError);
  assert.deepEqual(await collect(queued), []);
  assert.equal(queued.finishReason, 'abort');
  while (!(await it.next()).done);
  assert.equal(running.finishReason, 'abort');
  assert.equal(s.runningCount + s.queueDepth, 0);
});

test('a request that cannot sample is refused at submit, before it takes a slot', () => {
  const s = scheduler();
  assert.throws(() => s.submit({ ...greedy(prompt('Hi')), sampling: { temperature: -1 } }), RangeError);
  assert.equal(s.queueDepth, 0);
});

test('the server and the library decode through the same loop: the same tokens, greedy and seeded', async () => {
  const gen = new Generator(model().model, { tokenizer: model().tokenizer, maxContext: 512 });
  const ids = prompt(PROMPTS[2]!);
  for (const sampling of [{ temperature: 0 }, { temperature: 1, topP: 0.9, seed: 7 }]) {
    const lib = gen.generate([ids], { maxTokens: 10, sampling, stopTokenIds: [] })[0]!.ids;
    const served = await collect(scheduler().submit({ prompt: ids, maxTokens: 10, sampling, stopTokenIds: [] }));
    assert.deepEqual(served, lib, JSON.stringify(sampling));
  }
});

test('requests arriving together take the free slots; only those beyond them count against the queue', async () => {
  const s = scheduler({ maxBatch: 3, maxQueue: 1 });
  const gens = [0, 1, 2, 3].map(() => s.submit(greedy(prompt('Hi'), 2)));
  assert.throws(() => s.submit(greedy(prompt('Hi'), 2)), QueueFullError);
  await Promise.all(gens.map(collect));
});
