import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import type { RunningServer } from '../../src/serve/index.ts';
import { postJson, readSse, startTinyServer } from './tiny-server.ts';
import { until } from '../helpers/patience.ts';

// One reasoning server (R1 template, thinking budget 6) and one plain one (V3 template).
let r1: RunningServer;
let v3: RunningServer;
before(async () => {
  r1 = await startTinyServer({ template: 'r1', thinkingBudget: 6 });
  v3 = await startTinyServer({ template: 'v3' });
});

const chat = (s: RunningServer, body: Record<string, unknown>) =>
  postJson(`${s.url}/v1/chat/completions`, { model: 'tiny', messages: [{ role: 'user', content: 'Hello!' }], max_tokens: 16, ...body });

test('non-streaming chat: one completion object with usage', async () => {
  const { status, json } = await chat(v3, { seed: 3 });
  assert.equal(status, 200);
  assert.equal(json.object, 'chat.completion');
  assert.match(json.id, /^chatcmpl-/);
  assert.equal(json.model, 'tiny');
  const [c] = json.choices;
  assert.equal(c.message.role, 'assistant');
  assert.equal(typeof c.message.content, 'string');
  assert.ok(['stop', 'length'].includes(c.finish_reason));
  assert.equal(c.message.reasoning_content, undefined, 'a model without reasoning has no reasoning_content');
  const u = json.usage;
  assert.equal(u.total_tokens, u.prompt_tokens + u.completion_tokens);
  assert.equal(u.prompt_cache_hit_tokens + u.prompt_cache_miss_tokens, u.prompt_tokens);
  assert.ok(u.completion_tokens >= 1 && u.completion_tokens <= 16);
  assert.equal(u.completion_tokens_details.reasoning_tokens, 0);
});

test('the same seed gives the same answer; temperature 0 is deterministic', async () => {
  const a = await chat(v3, { seed: 42, temperature: 1.2, top_p: 0.9 });
  const b = await chat(v3, { seed: 42, temperature: 1.2, top_p: 0.9 });
  assert.equal(a.json.choices[0].message.content, b.json.choices[0].message.content);
  const g1 = await chat(v3, { temperature: 0 });
  const g2 = await chat(v3, { temperature: 0, frequency_penalty: 0, presence_penalty: 0 });
  assert.equal(g1.json.choices[0].message.content, g2.json.choices[0].message.content);
});

test('streaming chat: role first, content deltas, finish_reason, usage, [DONE]', async () => {
  const res = await fetch(`${v3.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      model: 'tiny',
      messages: [{ role: 'user', content: 'Hi' }],
      max_tokens: 10,
      seed: 1,
      stream: true,
      stream_options: { include_usage: true },
    }),
  });
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type')!, /^text\/event-stream/);
  const { events } = await readSse(res);
  assert.equal(events.at(-1), '[DONE]');
  const chunks = events.slice(0, -1);
  assert.equal(chunks[0].choices[0].delta.role, 'assistant');
  assert.ok(chunks.every((c) => c.object === 'chat.completion.chunk' && c.id === chunks[0].id));
  const usage = chunks.at(-1);
  assert.deepEqual(usage.choices, []);
  assert.ok(usage.usage.completion_tokens >= 1);
  const finish = chunks.at(-2);
  assert.ok(['stop', 'length'].includes(finish.choices[0].finish_reason));
  assert.ok(
    chunks.slice(0, -1).every((c) => c.usage === null),
    'usage is null until the last chunk',
  );
  const text = chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('');
  const whole = await chat(v3, { messages: [{ role: 'user', content: 'Hi' }], max_tokens: 10, seed: 1 });
  assert.equal(text, whole.json.choices[0].message.content, 'streamed text equals the non-streamed answer');
});

test('reasoning models: thinking in reasoning_content, the answer in content, both streamed', async () => {
  const { json } = await chat(r1, { max_tokens: 24, seed: 5, ignore_eos: true });
  const m = json.choices[0].message;
  assert.ok(m.reasoning_content.length > 0, 'reasoning_content');
  assert.ok(!m.content.includes('</think>') && !m.reasoning_content.includes('</think>'));
  const reasoningTokens = json.usage.completion_tokens_details.reasoning_tokens;
  assert.ok(reasoningTokens >= 6 && reasoningTokens < 24, `reasoning tokens ${reasoningTokens}`);

  const res = await fetch(`${r1.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      model: 'tiny',
      messages: [{ role: 'user', content: 'Hello!' }],
      max_tokens: 24,
      seed: 5,
      ignore_eos: true,
      stream: true,
    }),
  });
  const { events } = await readSse(res);
  const deltas = events.slice(0, -1).map((c) => c.choices[0].delta);
  const reasoning = deltas.map((d) => d.reasoning_content ?? '').join('');
  const content = deltas.map((d) => d.content ?? '').join('');
  assert.equal(reasoning, m.reasoning_content);
  assert.equal(content, m.content);
  const firstAnswer = deltas.findIndex((d) => d.content);
  assert.ok(
    deltas.slice(firstAnswer).every((d) => !d.reasoning_content),
    'no reasoning after the answer starts',
  );
});

test("earlier turns' thinking is not fed back; chat prefix completion continues the last message", async () => {
  const withThinking = await postJson(`${r1.url}/tokenize`, {
    messages: [
      { role: 'user', content: 'Hi' },
      { role: 'assistant', content: 'Hello!', reasoning_content: 'The user greets me.' },
      { role: 'user', content: 'Bye' },
    ],
  });
  const inline = await postJson(`${r1.url}/tokenize`, {
    messages: [
      { role: 'user', content: 'Hi' },
      { role: 'assistant', content: '<think>The user greets me.</think>Hello!' },
      { role: 'user', content: 'Bye' },
    ],
    return_token_strs: true,
  });
  const plain = await postJson(`${r1.url}/tokenize`, {
    messages: [
      { role: 'user', content: 'Hi' },
      { role: 'assistant', content: 'Hello!' },
      { role: 'user', content: 'Bye' },
    ],
  });
  assert.deepEqual(withThinking.json.tokens, plain.json.tokens);
  assert.deepEqual(inline.json.tokens, plain.json.tokens);

  // Prefix: the prompt ends with the prefix text (after a closed, empty reasoning for R1); the reply
  // is only the continuation.
  const prefix = '```python\n';
  const messages = [
    { role: 'user', content: 'Write code' },
    { role: 'assistant', content: prefix, prefix: true },
  ];
  for (const [s, ending] of [
    [v3, `<｜Assistant｜>${prefix}`],
    [r1, `<｜Assistant｜><think>\n\n</think>\n\n${prefix}`],
  ] as const) {
    const tok = await postJson(`${s.url}/tokenize`, { messages });
    const detok = await postJson(`${s.url}/detokenize`, { tokens: tok.json.tokens });
    assert.ok(detok.json.prompt.endsWith(ending), JSON.stringify(detok.json.prompt));
    const { json } = await chat(s, { messages, max_tokens: 5, seed: 2 });
    assert.equal(json.usage.prompt_tokens, tok.json.count);
    assert.equal(json.choices[0].message.reasoning_content ?? '', '', 'a prefixed answer does not think');
  }
  const bad = await chat(v3, {
    messages: [
      { role: 'assistant', content: 'x', prefix: true },
      { role: 'user', content: 'Hi' },
    ],
  });
  assert.equal(bad.status, 422, 'prefix only on the last message');
});

test('response_format json_object gives parseable JSON; stop strings cut the output', async () => {
  for (const seed of [1, 2, 3]) {
    const { json } = await chat(v3, { response_format: { type: 'json_object' }, max_tokens: 30, seed, temperature: 1 });
    const value = JSON.parse(json.choices[0].message.content);
    assert.equal(typeof value, 'object');
    assert.equal(json.choices[0].finish_reason, 'stop');
  }
  // Reasoning + JSON: the thinking is free, the answer is JSON.
  const { json } = await chat(r1, { response_format: { type: 'json_object' }, max_tokens: 30, seed: 9 });
  JSON.parse(json.choices[0].message.content);

  const free = await chat(v3, { seed: 11, max_tokens: 30, ignore_eos: true });
  const text: string = free.json.choices[0].message.content;
  const stop = text.slice(5, 7);
  const cut = await chat(v3, { seed: 11, max_tokens: 30, ignore_eos: true, stop: [stop] });
  assert.equal(cut.json.choices[0].message.content, text.slice(0, text.indexOf(stop)));
  assert.equal(cut.json.choices[0].finish_reason, 'stop');
});

test('tools: a forced call is parsed into tool_calls with JSON arguments', async () => {
  const tools = [
    {
      type: 'function',
      function: {
        name: 'get_weather',
        description: 'Weather in a city',
        parameters: { type: 'object', properties: { city: { type: 'string' } } },
      },
    },
    { type: 'function', function: { name: 'get_time', parameters: { type: 'object', properties: {} } } },
  ];
  for (const [server, choice] of [
    [v3, 'required'],
    [r1, { type: 'function', function: { name: 'get_time' } }],
  ] as const) {
    const { status, json } = await chat(server, { tools, tool_choice: choice, max_tokens: 60, seed: 4 });
    assert.equal(status, 200, JSON.stringify(json));
    const c = json.choices[0];
    assert.equal(c.finish_reason, 'tool_calls');
    assert.equal(c.message.tool_calls.length, 1);
    const call = c.message.tool_calls[0];
    assert.equal(call.type, 'function');
    assert.match(call.id, /^call_/);
    assert.ok(['get_weather', 'get_time'].includes(call.function.name));
    if (typeof choice === 'object') assert.equal(call.function.name, 'get_time');
    assert.equal(typeof JSON.parse(call.function.arguments), 'object');
    assert.ok(!String(c.message.content ?? '').includes('tool'), 'no marker text leaks into content');
  }
  // DeepSeek-V3's template does not render `tools`: the server describes them in the system prompt.
  const tok = await postJson(`${v3.url}/tokenize`, { messages: [{ role: 'user', content: 'Hi' }], tools });
  const prompt = (await postJson(`${v3.url}/detokenize`, { tokens: tok.json.tokens })).json.prompt as string;
  assert.match(
    prompt,
    /^<｜begin▁of▁sentence｜>## Tools\n\n### Function\n\nYou have the following functions available:\n\n- `get_weather`:/,
  );
  // With tool_choice auto, a reply without a call is plain content.
  const auto = await chat(v3, { tools, max_tokens: 8, seed: 4 });
  assert.equal(auto.status, 200);
  assert.notEqual(auto.json.choices[0].finish_reason, 'tool_calls');
  // The tool result goes back through the template; the model answers.
  const { status, json } = await chat(v3, {
    tools,
    messages: [
      { role: 'user', content: 'Weather in Paris?' },
      {
        role: 'assistant',
        content: null,
        tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }],
      },
      { role: 'tool', tool_call_id: 'call_1', content: '{"temperature": 21}' },
    ],
    max_tokens: 5,
  });
  assert.equal(status, 200, JSON.stringify(json));
  assert.equal(typeof json.choices[0].message.content, 'string');
});

test('a JSON answer or forced call that cannot fit max_tokens is a 422 up front, and running streams are not disturbed', async () => {
  const tools = [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: {} } } }];
  const stream = fetch(`${v3.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      model: 'tiny',
      messages: [{ role: 'user', content: 'Hello!' }],
      max_tokens: 40,
      ignore_eos: true,
      stream: true,
      seed: 2,
    }),
  });
  const json = await chat(v3, { response_format: { type: 'json_object' }, max_tokens: 1 });
  assert.equal(json.status, 422, JSON.stringify(json.json));
  assert.equal(json.json.error.param, 'max_tokens');
  assert.match(json.json.error.message, /needs at least 2 tokens/);
  const call = await chat(v3, { tools, tool_choice: 'required', max_tokens: 3 });
  assert.equal(call.status, 422, JSON.stringify(call.json));
  assert.match(call.json.error.message, /forced tool call needs at least \d+ tokens/);
  const { events } = await readSse(await stream);
  assert.equal(events.at(-1), '[DONE]');
  assert.equal(events.at(-2).choices[0].finish_reason, 'length');
  // At a budget that fits, every seed gives a parseable call.
  for (const seed of [1, 2, 3, 4, 5]) {
    const ok = await chat(v3, { tools, tool_choice: 'required', max_tokens: 40, seed, temperature: 1 });
    assert.equal(ok.status, 200, JSON.stringify(ok.json));
    assert.ok(['tool_calls', 'length'].includes(ok.json.choices[0].finish_reason));
  }
});

test('logprobs: one entry per token with its top alternatives', async () => {
  const { json } = await chat(v3, { logprobs: true, top_logprobs: 3, max_tokens: 6, seed: 8, ignore_eos: true });
  const lp = json.choices[0].logprobs.content;
  assert.equal(lp.length, 6);
  for (const e of lp) {
    assert.ok(e.logprob <= 0);
    assert.equal(e.top_logprobs.length, 3);
    assert.ok(e.top_logprobs[0].logprob >= e.top_logprobs[2].logprob);
    assert.ok(Array.isArray(e.bytes));
  }
  const greedy = await chat(v3, { logprobs: true, top_logprobs: 1, max_tokens: 4, temperature: 0 });
  for (const e of greedy.json.choices[0].logprobs.content) assert.equal(e.token, e.top_logprobs[0].token, 'greedy picks the top token');
});

test('a repeated prompt prefix is served from the cache (prompt_cache_hit_tokens)', async () => {
  const system = 'You are a helpful assistant. Answer briefly and precisely, in plain English, and never make anything up. '.repeat(2);
  const body = {
    messages: [
      { role: 'system', content: system },
      { role: 'user', content: 'What is the capital of France?' },
    ],
    max_tokens: 3,
  };
  const first = await chat(v3, body);
  const second = await chat(v3, { ...body, messages: [body.messages[0], { role: 'user', content: 'And of Germany?' }] });
  assert.equal(first.json.usage.prompt_cache_hit_tokens, 0);
  assert.ok(second.json.usage.prompt_cache_hit_tokens >= 32, JSON.stringify(second.json.usage));
});

test('/v1/completions: text, echo, stream, logprobs and fill-in-the-middle', async () => {
  const url = `${v3.url}/v1/completions`;
  const plain = await postJson(url, { model: 'tiny', prompt: 'def fib(n):', max_tokens: 6, seed: 1, ignore_eos: true });
  assert.equal(plain.status, 200);
  assert.equal(plain.json.object, 'text_completion');
  assert.equal(plain.json.usage.completion_tokens, 6);
  const echo = await postJson(url, { model: 'tiny', prompt: 'def fib(n):', max_tokens: 6, seed: 1, ignore_eos: true, echo: true });
  assert.equal(echo.json.choices[0].text, `def fib(n):${plain.json.choices[0].text}`);
  const lp = await postJson(url, { model: 'tiny', prompt: [5, 6, 7], max_tokens: 3, logprobs: 2, ignore_eos: true });
  assert.equal(lp.json.choices[0].logprobs.tokens.length, 3);
  assert.equal(lp.json.usage.prompt_tokens, 3);
  const fim = await postJson(url, { model: 'tiny', prompt: 'def add(a, b):\n    ', suffix: '\n    return c', max_tokens: 4 });
  assert.equal(fim.status, 200);
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'tiny', prompt: 'def fib(n):', max_tokens: 6, seed: 1, ignore_eos: true, stream: true }),
  });
  const { events } = await readSse(res);
  assert.equal(events.at(-1), '[DONE]');
  assert.equal(
    events
      .slice(0, -1)
      .map((e) => e.choices[0].text)
      .join(''),
    plain.json.choices[0].text,
  );
});

test('/v1/models, /tokenize, /detokenize, /health, /metrics', async () => {
  const models = (await (await fetch(`${v3.url}/v1/models`)).json()) as { object: string; data: { id: string }[] };
  assert.equal(models.object, 'list');
  assert.equal(models.data[0]!.id, 'tiny');
  assert.equal((await fetch(`${v3.url}/v1/models/tiny`)).status, 200);
  assert.equal((await fetch(`${v3.url}/v1/models/other`)).status, 404);
  const tok = await postJson(`${v3.url}/tokenize`, { prompt: 'Hello world' });
  assert.equal(tok.json.count, tok.json.tokens.length);
  assert.equal(tok.json.max_model_len, 512);
  const detok = await postJson(`${v3.url}/detokenize`, { tokens: tok.json.tokens.slice(1) });
  assert.equal(detok.json.prompt, 'Hello world');
  const health = (await (await fetch(`${v3.url}/health`)).json()) as { status: string };
  assert.equal(health.status, 'ok');
  const metrics = await (await fetch(`${v3.url}/metrics`)).text();
  for (const name of [
    'dsts_http_requests_total',
    'dsts_generation_tokens_total',
    'dsts_queue_depth',
    'dsts_time_to_first_token_seconds_bucket',
    'dsts_inter_token_latency_seconds_count',
    'dsts_request_duration_seconds_sum',
  ]) {
    assert.ok(metrics.includes(name), name);
  }
  assert.match(metrics, /dsts_http_requests_total\{route="chat",status="200"\} [1-9]/);
});

test('a stream that waits in the queue sends keep-alive comments', async () => {
  // ≥ 5 ms a step: the 200-token stream holds the batch ≥ 1 s, many keep-alive intervals, on any machine.
  const s = await startTinyServer({ template: 'v3', maxBatch: 1, keepAliveMs: 20, minStepMs: 5 });
  const body = (n: number) =>
    JSON.stringify({ model: 'tiny', messages: [{ role: 'user', content: 'Hi' }], max_tokens: n, ignore_eos: true, stream: true });
  const long = fetch(`${s.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: body(200) });
  await until(() => s.context.scheduler.runningCount === 1, 'the long stream to hold the batch');
  const waiting = await fetch(`${s.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: body(2),
  });
  const [{ comments }] = await Promise.all([readSse(waiting), long.then((r) => r.text())]);
  assert.ok(comments.includes(': keep-alive'), `comments: ${comments}`);
});
