// The official `openai` npm package against our server: what users' tools actually send and parse.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import type { RunningServer } from '../../src/serve/index.ts';
import { startTinyServer } from './tiny-server.ts';
import { PATIENCE_MS } from '../helpers/patience.ts';

let server: RunningServer;
let client: OpenAI;
before(async () => {
  server = await startTinyServer({ template: 'r1', thinkingBudget: 4 });
  client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'not-needed', maxRetries: 0, timeout: PATIENCE_MS });
});

test('models.list and a non-streaming chat completion', async () => {
  const models = await client.models.list();
  assert.deepEqual(
    models.data.map((m) => m.id),
    ['tiny'],
  );
  const r = await client.chat.completions.create({
    model: 'tiny',
    messages: [
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Hello!' },
    ],
    max_tokens: 12,
    seed: 1,
  });
  assert.equal(r.object, 'chat.completion');
  assert.equal(typeof r.choices[0]!.message.content, 'string');
  assert.equal(typeof (r.choices[0]!.message as unknown as { reasoning_content: string }).reasoning_content, 'string');
  assert.ok(r.usage!.completion_tokens > 0);
  assert.equal(r.usage!.total_tokens, r.usage!.prompt_tokens + r.usage!.completion_tokens);
});

test('a streaming chat completion, with usage at the end', async () => {
  const stream = await client.chat.completions.create({
    model: 'tiny',
    messages: [{ role: 'user', content: 'Tell me a story.' }],
    max_tokens: 16,
    seed: 2,
    ignore_eos: true,
    stream: true,
    stream_options: { include_usage: true },
  } as OpenAI.ChatCompletionCreateParamsStreaming);
  let content = '';
  let reasoning = '';
  let finish: string | null = null;
  let usage: OpenAI.CompletionUsage | null | undefined = null;
  for await (const chunk of stream) {
    const c = chunk.choices[0];
    if (c) {
      content += c.delta.content ?? '';
      reasoning += (c.delta as { reasoning_content?: string }).reasoning_content ?? '';
      finish = c.finish_reason ?? finish;
    }
    if (chunk.usage) usage = chunk.usage;
  }
  assert.ok(reasoning.length > 0 && content.length > 0, `reasoning ${JSON.stringify(reasoning)}, content ${JSON.stringify(content)}`);
  assert.equal(finish, 'length');
  assert.equal(usage!.completion_tokens, 16);
});

test('a tool call, then the tool result sent back', async () => {
  const tools: OpenAI.ChatCompletionTool[] = [
    {
      type: 'function',
      function: {
        name: 'get_weather',
        description: 'Current weather',
        parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
      },
    },
  ];
  const messages: OpenAI.ChatCompletionMessageParam[] = [{ role: 'user', content: 'What is the weather in Paris?' }];
  const r = await client.chat.completions.create({
    model: 'tiny',
    messages,
    tools,
    tool_choice: { type: 'function', function: { name: 'get_weather' } },
    max_tokens: 48,
    seed: 3,
  });
  const choice = r.choices[0]!;
  assert.equal(choice.finish_reason, 'tool_calls');
  const call = choice.message.tool_calls![0]! as OpenAI.ChatCompletionMessageFunctionToolCall;
  assert.equal(call.function.name, 'get_weather');
  assert.equal(typeof JSON.parse(call.function.arguments), 'object');
  messages.push(choice.message as OpenAI.ChatCompletionMessageParam, {
    role: 'tool',
    tool_call_id: call.id,
    content: '{"temperature_c": 21}',
  });
  const next = await client.chat.completions.create({ model: 'tiny', messages, tools, max_tokens: 6 });
  assert.equal(typeof next.choices[0]!.message.content, 'string');
  // Streamed, the call arrives as a tool_calls delta.
  const stream = await client.chat.completions.create({
    model: 'tiny',
    messages: messages.slice(0, 1),
    tools,
    tool_choice: 'required',
    max_tokens: 48,
    seed: 3,
    stream: true,
  });
  const names: string[] = [];
  let finish = '';
  for await (const chunk of stream) {
    for (const t of chunk.choices[0]?.delta.tool_calls ?? []) if (t.function?.name) names.push(t.function.name);
    finish = chunk.choices[0]?.finish_reason ?? finish;
  }
  assert.deepEqual(names, ['get_weather']);
  assert.equal(finish, 'tool_calls');
});

test('errors surface as the client library’s typed errors', async () => {
  await assert.rejects(
    client.chat.completions.create({ model: 'tiny', messages: [{ role: 'user', content: 'Hi' }], temperature: 5 }),
    (e: unknown) =>
      e instanceof OpenAI.UnprocessableEntityError &&
      e.status === 422 &&
      /temperature/.test(e.message) &&
      (e.error as { code: string }).code === 'invalid_parameter',
  );
  await assert.rejects(
    client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'Hi' }] }),
    OpenAI.NotFoundError,
  );
  await assert.rejects(
    client.chat.completions.create({ model: 'tiny', messages: [] }),
    (e: unknown) => e instanceof OpenAI.APIError && e.status === 422,
  );
});

test('legacy completions, with fill-in-the-middle', async () => {
  const r = await client.completions.create({ model: 'tiny', prompt: 'def add(a, b):', suffix: '    return c', max_tokens: 5, seed: 1 });
  assert.equal(r.object, 'text_completion');
  assert.equal(typeof r.choices[0]!.text, 'string');
});
