import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import type { RunningServer } from '../../src/serve/index.ts';
import { postJson, readSse, startTinyServer } from './tiny-server.ts';
import { until } from '../helpers/patience.ts';

let s: RunningServer;
before(async () => {
  s = await startTinyServer({ template: 'v3', maxBodyBytes: 64 * 1024, maxTokens: 256 });
});

const good = { model: 'tiny', messages: [{ role: 'user', content: 'Hi' }], max_tokens: 4 };

function assertError(r: { status: number; json: any }, status: number, code?: string, param?: string): void {
  assert.equal(r.status, status, JSON.stringify(r.json));
  const e = r.json.error;
  assert.equal(typeof e.message, 'string');
  assert.ok(e.message.length > 0);
  assert.equal(typeof e.type, 'string');
  assert.equal(typeof e.code, 'string');
  if (code) assert.equal(e.code, code);
  if (param) assert.equal(e.param, param);
}

test('malformed bodies are 400s', async () => {
  const url = `${s.url}/v1/chat/completions`;
  assertError(await postJson(url, '{"model": "tiny", "messages": ['), 400, 'invalid_json');
  assertError(await postJson(url, ''), 400, 'invalid_json');
  assertError(await postJson(url, '[1, 2]'), 400, 'invalid_json');
  assertError(await postJson(url, 'null'), 400, 'invalid_json');
  const badUtf8 = new Uint8Array([
    ...new TextEncoder().encode('{"model": "tiny", "messages": [{"role": "user", "content": "'),
    0xff,
    0xfe,
    0xc3,
    ...new TextEncoder().encode('"}]}'),
  ]);
  assertError(await postJson(url, badUtf8), 400, 'invalid_encoding');
});

test('wrong types, unknown fields, empty messages and huge values are 422s naming the parameter', async () => {
  const url = `${s.url}/v1/chat/completions`;
  const cases: [Record<string, unknown>, string][] = [
    [{ messages: 'hello' }, 'messages'],
    [{ messages: [] }, 'messages'],
    [{ messages: [{ role: 'user' }] }, 'messages[0].content'],
    [{ messages: [{ role: 'wizard', content: 'x' }] }, 'messages[0].role'],
    [{ messages: [{ role: 'user', content: 'x', mood: 'happy' }] }, 'messages[0].mood'],
    [{ messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'x' } }] }] }, 'messages[0].content[0].type'],
    [{ messages: [{ role: 'user', content: 42 }] }, 'messages[0].content'],
    [{ temperature: 'hot' }, 'temperature'],
    [{ temperature: 1e308 }, 'temperature'],
    [{ top_p: 0 }, 'top_p'],
    [{ max_tokens: 1.5 }, 'max_tokens'],
    [{ max_tokens: 1e12 }, 'max_tokens'],
    [{ max_tokens: 0 }, 'max_tokens'],
    [{ stream: 'yes' }, 'stream'],
    [{ seed: 1e300 }, 'seed'],
    [{ n: 2 }, 'n'],
    [{ top_logprobs: 3 }, 'top_logprobs'],
    [{ logprobs: true, top_logprobs: 100 }, 'top_logprobs'],
    [{ stop: ['a', 5] }, 'stop'],
    [{ stop: new Array(20).fill('x') }, 'stop'],
    [{ frequency_penalty: -5 }, 'frequency_penalty'],
    [{ response_format: { type: 'xml' } }, 'response_format.type'],
    [{ tools: [{ type: 'function', function: { name: 'bad name!' } }] }, 'tools[0].function.name'],
    [{ tool_choice: 'required' }, 'tool_choice'],
    [{ tools: [{ type: 'function', function: { name: 'f' } }], tool_choice: { type: 'function', function: { name: 'g' } } }, 'tool_choice'],
    [{ logit_bias: { 99999: 5 } }, 'logit_bias'],
    [{ stream_options: { include_usage: true } }, 'stream_options'],
    [{ max_token: 5 }, 'max_token'],
    [{ model: 7 }, 'model'],
  ];
  for (const [patch, param] of cases) {
    const r = await postJson(url, { ...good, ...patch });
    assertError(r, 422, undefined, param);
  }
  const { model: _m, ...noModel } = good;
  assertError(await postJson(url, noModel), 422, 'missing_parameter', 'model');
  assertError(await postJson(url, { ...good, model: 'gpt-4' }), 404, 'model_not_found');
  assertError(await postJson(`${s.url}/v1/completions`, { model: 'tiny', prompt: [1, 100000] }), 422, 'invalid_prompt');
  assertError(await postJson(`${s.url}/v1/completions`, { model: 'tiny', prompt: '' }), 422);
  assertError(await postJson(`${s.url}/detokenize`, { tokens: [1, -2] }), 422, undefined, 'tokens[1]');
});

test('context and body limits', async () => {
  const long = 'word '.repeat(2000); // ~2000 tokens: tokenized, then refused
  assertError(
    await postJson(`${s.url}/v1/chat/completions`, { ...good, messages: [{ role: 'user', content: long }] }),
    422,
    'context_length_exceeded',
  );
  const huge = 'x'.repeat(60 * 1024); // refused before tokenizing
  assertError(await postJson(`${s.url}/v1/completions`, { model: 'tiny', prompt: huge }), 422, 'context_length_exceeded', 'prompt');
  const tooBig = JSON.stringify({ ...good, messages: [{ role: 'user', content: 'x'.repeat(100 * 1024) }] });
  assertError(await postJson(`${s.url}/v1/chat/completions`, tooBig), 413, 'request_too_large');
  // max_tokens beyond what the context (512) leaves is capped, not refused.
  const capped = await postJson(`${s.url}/v1/completions`, {
    model: 'tiny',
    prompt: new Array(505).fill(5),
    max_tokens: 200,
    ignore_eos: true,
  });
  assert.equal(capped.status, 200);
  assert.equal(capped.json.choices[0].finish_reason, 'length');
  assert.equal(capped.json.usage.completion_tokens, 7);
});

test('unknown routes are 404, wrong methods 405', async () => {
  assertError(
    { status: (await fetch(`${s.url}/v2/everything`)).status, json: await (await fetch(`${s.url}/v2/everything`)).json() },
    404,
    'not_found',
  );
  const r = await fetch(`${s.url}/v1/chat/completions`);
  assertError({ status: r.status, json: await r.json() }, 405, 'method_not_allowed');
  assert.equal(r.headers.get('allow'), 'POST');
});

test('a full queue is a 429, a request that waits too long a 503, and everyone else is still served', async () => {
  // Each step takes ≥ 8 ms, so the 300-token holder runs ≥ 2.4 s on any machine: longer than the
  // 1.5 s queue timeout, which leaves the 429 below the time of one local request. The test waits on
  // the scheduler's state (holder running, waiter queued), not on sleeps.
  const busy = await startTinyServer({ template: 'v3', maxBatch: 1, maxQueue: 1, queueTimeoutMs: 1500, minStepMs: 8 });
  const url = `${busy.url}/v1/chat/completions`;
  const sched = busy.context.scheduler;
  const holder = fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ ...good, max_tokens: 300, ignore_eos: true, stream: true }),
  });
  await until(() => sched.runningCount === 1, 'the holder to start');
  const waiter = postJson(url, good); // takes the one queue place
  await until(() => sched.queueDepth === 1, 'the waiter to queue');
  const full = await postJson(url, good);
  assertError(full, 429, 'queue_full');
  assert.equal(full.headers.get('retry-after'), '1');
  assertError(await waiter, 503, 'overloaded');
  const { events } = await readSse(await holder);
  assert.equal(events.at(-1), '[DONE]', 'the running stream was not disturbed');
  const after = await postJson(url, good);
  assert.equal(after.status, 200);
});

test('an API key, when set, is required on the API routes', async () => {
  const locked = await startTinyServer({ template: 'v3', apiKey: 'sekret' });
  assertError(await postJson(`${locked.url}/v1/chat/completions`, good), 401, 'invalid_api_key');
  const ok = await postJson(`${locked.url}/v1/chat/completions`, good, {
    headers: { authorization: 'Bearer sekret', 'content-type': 'application/json' },
  });
  assert.equal(ok.status, 200);
  assert.equal((await fetch(`${locked.url}/health`)).status, 200);
});

test('bad requests in the middle of a stream do not disturb it', async () => {
  const res = fetch(`${s.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ ...good, max_tokens: 60, ignore_eos: true, seed: 1, stream: true }),
  });
  const junk = await Promise.all([
    postJson(`${s.url}/v1/chat/completions`, '{{{'),
    postJson(`${s.url}/v1/chat/completions`, { ...good, temperature: -1 }),
    postJson(`${s.url}/v1/completions`, { model: 'tiny', prompt: { a: 1 } }),
    fetch(`${s.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: new Uint8Array([0xc0, 0xaf]),
    }).then((r) => r.status),
  ]);
  assert.deepEqual(
    junk.map((j) => (typeof j === 'number' ? j : j.status)),
    [400, 422, 422, 400],
  );
  const { events } = await readSse(await res);
  assert.equal(events.at(-1), '[DONE]');
  const usage = events.filter((e) => e !== '[DONE]');
  assert.equal(usage.at(-1).choices[0].finish_reason, 'length');
});

test('metadata and store are accepted (and checked); max_completion_tokens wins over max_tokens', async () => {
  const url = `${s.url}/v1/chat/completions`;
  const ok = await postJson(url, { ...good, store: false, metadata: { user: 'u1', topic: 'tests' } });
  assert.equal(ok.status, 200, JSON.stringify(ok.json));
  assertError(await postJson(url, { ...good, metadata: { n: 5 } }), 422, undefined, 'metadata');
  assertError(await postJson(url, { ...good, store: 'yes' }), 422, undefined, 'store');
  const both = await postJson(url, { ...good, max_tokens: 10, max_completion_tokens: 3, ignore_eos: true });
  assert.equal(both.status, 200, JSON.stringify(both.json));
  assert.equal(both.json.usage.completion_tokens, 3);
});
