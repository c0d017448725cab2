import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTinyServer } from './tiny-server.ts';
import { until as eventually } from '../helpers/patience.ts';

test('a client that disconnects stops its generation (streaming and not)', async () => {
  // ≥ 10 ms a step: a 400-token request runs ≥ 4 s on any machine, so it is still running when the
  // client leaves (the waits below poll the server's state, bounded only by the hang guard).
  const s = await startTinyServer({ template: 'v3', minStepMs: 10 });
  const body = (stream: boolean) =>
    JSON.stringify({ model: 'tiny', messages: [{ role: 'user', content: 'Hi' }], max_tokens: 400, ignore_eos: true, stream });
  const aborted = async () =>
    Number(/dsts_generations_total\{model="tiny",reason="abort"\} (\d+)/.exec(await (await fetch(`${s.url}/metrics`)).text())?.[1] ?? 0);

  const streaming = new AbortController();
  const res = await fetch(`${s.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: body(true),
    signal: streaming.signal,
  });
  const reader = res.body!.getReader();
  await reader.read(); // the stream has started
  await reader.read();
  streaming.abort();
  await eventually(async () => (await aborted()) === 1 && s.context.scheduler.runningCount === 0, 'the stream to be cancelled');

  const plain = new AbortController();
  const pending = fetch(`${s.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: body(false),
    signal: plain.signal,
  }).catch((e: Error) => e);
  await eventually(async () => s.context.scheduler.runningCount === 1, 'the request to start');
  plain.abort();
  assert.equal(((await pending) as Error).name, 'AbortError');
  await eventually(async () => (await aborted()) === 2 && s.context.scheduler.runningCount === 0, 'the request to be cancelled');

  const tokens = Number(/dsts_generation_tokens_total\{model="tiny"\} (\d+)/.exec(await (await fetch(`${s.url}/metrics`)).text())![1]);
  assert.ok(tokens < 400, `${tokens} tokens generated for two cancelled requests of 400`);
});
