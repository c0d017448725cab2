import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTinyServer } from './tiny-server.ts';

/** Polls `check` every 20 ms for at most 5 s. */
async function eventually(check: () => Promise<boolean>, what: string): Promise<void> {
  const end = Date.now() + 5000;
  while (Date.now() < end) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.fail(`timed out waiting for ${what}`);
}

test('a client that disconnects stops its generation (streaming and not)', async () => {
  // ≥ 2 ms a step: a 400-token request runs ≥ 0.8 s, so it is still running when the client leaves.
  const s = await startTinyServer({ template: 'v3', minStepMs: 2 });
  const body = (stream: boolean) => JSON.stringify({ model: 'tiny', messages: [{ role: 'user', content: 'Hi' }], max_tokens: 400, ignore_eos: true, stream });
  const aborted = async () => Number(/dsts_generations_total\{reason="abort"\} (\d+)/.exec(await (await fetch(`${s.url}/metrics`)).text())?.[1] ?? 0);

  const streaming = new AbortController();
  const res = await fetch(`${s.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: body(true), signal: streaming.signal });
  const reader = res.body!.getReader();
  await reader.read(); // the stream has started
  await reader.read();
  streaming.abort();
  await eventually(async () => (await aborted()) === 1 && s.context.scheduler.runningCount === 0, 'the stream to be cancelled');

  const plain = new AbortController();
  const pending = fetch(`${s.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: body(false), signal: plain.signal }).catch((e: Error) => e);
  await eventually(async () => s.context.scheduler.runningCount === 1, 'the request to start');
  plain.abort();
  assert.equal(((await pending) as Error).name, 'AbortError');
  await eventually(async () => (await aborted()) === 2 && s.context.scheduler.runningCount === 0, 'the request to be cancelled');

  const tokens = Number(/dsts_generation_tokens_total (\d+)/.exec(await (await fetch(`${s.url}/metrics`)).text())![1]);
  assert.ok(tokens < 400, `${tokens} tokens generated for two cancelled requests of 400`);
});
