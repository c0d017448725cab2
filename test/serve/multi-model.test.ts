// One server, two models (a poetry-style base model with a plain template, a reasoning model with
// R1's): the request's `model` picks one, each has its own batch and queue, and one model's failure
// stays with its own requests.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import type { RunningServer } from '../../src/serve/index.ts';
import { endless, pace, postJson, readSse, startTinyServer } from './tiny-server.ts';
import { until } from '../helpers/patience.ts';

let s: RunningServer;
before(async () => {
  s = await startTinyServer({
    models: [
      { template: 'v3', name: 'poet' },
      { template: 'r1', name: 'reasoner' },
    ],
    maxBatch: 1,
    maxQueue: 0,
  });
});

const chat = (model: string, extra: Record<string, unknown> = {}) =>
  postJson(`${s.url}/v1/chat/completions`, {
    model,
    messages: [{ role: 'user', content: 'Hi' }],
    max_tokens: 8,
    ignore_eos: true,
    ...extra,
  });

test('/v1/models lists every model, the default first; an unknown model is a 404 naming the served ones', async () => {
  const list = (await (await fetch(`${s.url}/v1/models`)).json()) as { data: { id: string; max_model_len: number }[] };
  assert.deepEqual(
    list.data.map((m) => m.id),
    ['poet', 'reasoner'],
  );
  for (const id of ['poet', 'reasoner']) {
    const card = (await (await fetch(`${s.url}/v1/models/${id}`)).json()) as { id: string };
    assert.equal(card.id, id);
  }
  const missing = await fetch(`${s.url}/v1/models/gpt-4`);
  assert.equal(missing.status, 404);
  const r = await chat('gpt-4');
  assert.equal(r.status, 404);
  assert.deepEqual(r.json, {
    error: {
      message: "the model 'gpt-4' does not exist; this server serves 'poet', 'reasoner'",
      type: 'invalid_request_error',
      param: 'model',
      code: 'model_not_found',
    },
  });
  const health = (await (await fetch(`${s.url}/health`)).json()) as { model: string; models: { id: string }[] };
  assert.equal(health.model, 'poet');
  assert.deepEqual(
    health.models.map((m) => m.id),
    ['poet', 'reasoner'],
  );
});

test("the request's model answers it, with its own template: only the R1 model's reasoning is set apart", async () => {
  const poet = await chat('poet');
  assert.equal(poet.status, 200, JSON.stringify(poet.json));
  assert.equal(poet.json.model, 'poet');
  assert.equal(poet.json.choices[0].message.reasoning_content, undefined);
  const reasoner = await chat('reasoner', { max_tokens: 30 });
  assert.equal(reasoner.status, 200, JSON.stringify(reasoner.json));
  assert.equal(reasoner.json.model, 'reasoner');
  assert.equal(typeof reasoner.json.choices[0].message.reasoning_content, 'string');
  // Streams too: the first chunk of the reasoning model opens reasoning_content.
  const res = await fetch(`${s.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'reasoner', messages: [{ role: 'user', content: 'Hi' }], max_tokens: 4, stream: true }),
  });
  const { events } = await readSse(res);
  assert.equal(events[0].model, 'reasoner');
  assert.equal(events[0].choices[0].delta.reasoning_content, '');
  // /tokenize renders with the named model's template (R1's opens <think>).
  const messages = [{ role: 'user', content: 'Hi' }];
  const tok = async (model: string) => (await postJson(`${s.url}/tokenize`, { model, messages, return_token_strs: true })).json;
  assert.ok(!(await tok('poet')).token_strs.includes('<think>'));
  assert.ok((await tok('reasoner')).token_strs.includes('<think>'));
  assert.equal((await postJson(`${s.url}/tokenize`, { model: 'nope', prompt: 'x' })).status, 404);
});

test('each model has its own batch and queue: a full model refuses, the other still serves', async () => {
  // The poet's one batch slot is held by a long stream (it may not end early; ≥ 5 ms a step keeps it
  // going for seconds), and its queue holds nothing more.
  endless(s, true);
  pace(s, 5);
  const poet = s.models.get('poet');
  const long = fetch(`${s.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'poet', messages: [{ role: 'user', content: 'Hi' }], max_tokens: 400, stream: true }),
  });
  try {
    await until(() => poet.scheduler.runningCount === 1, 'the long stream to hold the batch');
    const refused = await chat('poet');
    assert.equal(refused.status, 429, JSON.stringify(refused.json));
    const other = await chat('reasoner', { max_tokens: 3 });
    assert.equal(other.status, 200, JSON.stringify(other.json));
    assert.equal(poet.scheduler.runningCount, 1, "the reasoner answered while the poet's stream still ran");
    const metrics = await (await fetch(`${s.url}/metrics`)).text();
    assert.match(metrics, /^dsts_running_sequences\{model="poet"\} 1$/m);
    assert.match(metrics, /^dsts_generations_total\{model="reasoner",reason="length"\} [1-9]/m);
  } finally {
    pace(s, 0);
    endless(s, false);
    await (await long).text();
  }
});

test("one model's failure never reaches the other's requests", async () => {
  const reasoner = s.models.get('reasoner').model.model;
  const forward = reasoner.forward;
  reasoner.forward = () => {
    throw new Error('the reasoner broke');
  };
  try {
    const broken = await chat('reasoner');
    assert.equal(broken.status, 500);
    assert.match(broken.json.error.message, /the reasoner broke/);
    const fine = await chat('poet');
    assert.equal(fine.status, 200, JSON.stringify(fine.json));
    assert.equal(fine.json.usage.completion_tokens, 8);
  } finally {
    reasoner.forward = forward;
  }
  assert.equal((await chat('reasoner')).status, 200, 'the reasoner serves again once mended');
});
