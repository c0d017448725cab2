// Speculative decoding in the server: inside the batch scheduler, next to other requests and with
// prefix caching (reused MTP caches included), greedy output is what the ordinary scheduler gives;
// `usage` and /metrics report the draft tokens; a checkpoint without MTP weights is refused in one
// line (exit 1) and so are bad flags.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { loadServedModel, startServer } from '../../src/serve/index.ts';
import { Scheduler, type EngineRequest } from '../../src/serve/engine/scheduler.ts';
import type { Generation } from '../../src/serve/engine/generation.ts';
import { PATIENCE_MS } from '../helpers/patience.ts';
import { tinyModelDir } from './tiny-server.ts';

const DSTS = fileURLToPath(new URL('../../bin/dsts.js', import.meta.url));
const NANO = fileURLToPath(new URL('../../models/deepseek-ts-nano', import.meta.url));

async function collect(g: Generation): Promise<number[]> {
  const ids: number[] = [];
  for await (const e of g) ids.push(e.token);
  return ids;
}

test('scheduler: speculative greedy output equals ordinary output in a mixed batch, also from the prefix cache', async () => {
  const served = loadServedModel(NANO);
  const tok = served.tokenizer;
  const system = '靜夜思\n李白\n床前明月光，疑是地上霜。\n';
  const prompts = [system + '舉頭', system + '低頭', '春眠不覺曉，', '白日依山盡，'];
  const req = (p: string, maxTokens: number): EngineRequest => ({
    prompt: tok.encode(p),
    maxTokens,
    sampling: { temperature: 0 },
    stopTokenIds: served.eosIds,
  });
  const plain = new Scheduler(served.model, { decoder: tok, maxBatch: 3, prefixCache: { maxTokens: 0 } });
  const expected = await Promise.all(prompts.map((p, i) => collect(plain.submit(req(p, 12 + 5 * i)))));
  const spec = new Scheduler(served.model, {
    decoder: tok,
    maxBatch: 3,
    prefixCache: { blockSize: 4 },
    speculative: { method: 'mtp', draftTokens: 3 },
  });
  // Round 1 fills the prefix cache; in round 2 the prompts that share the poem reuse its caches.
  for (const round of [1, 2]) {
    const gens = prompts.map((p, i) => spec.submit(req(p, 12 + 5 * i)));
    const got = await Promise.all(gens.map(collect));
    got.forEach((ids, i) => assert.deepEqual(ids, expected[i], `round ${round}, prompt ${i}`));
    if (round === 2) assert.ok(gens[0]!.cachedTokens > 0 && gens[1]!.cachedTokens > 0, 'the shared prefix came from the cache');
    for (const g of gens) assert.ok(g.speculation && g.speculation.drafted > 0 && g.speculation.accepted <= g.speculation.drafted);
  }
  assert.ok(spec.speculation!.accepted > 0);
});

test('HTTP: usage counts accepted and rejected draft tokens (none for a JSON-constrained request); /metrics has the spec_decode counters', async () => {
  const server = await startServer(loadServedModel(NANO, { name: 'nano', speculative: { method: 'mtp', draftTokens: 2 } }), { port: 0 });
  try {
    const res = await fetch(`${server.url}/v1/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'nano', prompt: '春眠不覺曉，', max_tokens: 24, temperature: 0 }),
    });
    assert.equal(res.status, 200);
    const body = (await res.json()) as {
      usage: {
        completion_tokens: number;
        completion_tokens_details: { accepted_prediction_tokens: number; rejected_prediction_tokens: number };
      };
    };
    const d = body.usage.completion_tokens_details;
    assert.ok(d.accepted_prediction_tokens > 0, JSON.stringify(body.usage));
    assert.ok(d.accepted_prediction_tokens < body.usage.completion_tokens);
    assert.ok(d.rejected_prediction_tokens >= 0);
    const chat = await fetch(`${server.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'nano', messages: [{ role: 'user', content: '秋夜' }], max_tokens: 16, temperature: 0.7, seed: 3 }),
    });
    const cu = ((await chat.json()) as { usage: { completion_tokens_details: Record<string, number> } }).usage.completion_tokens_details;
    assert.equal(typeof cu.accepted_prediction_tokens, 'number');
    assert.equal(typeof cu.rejected_prediction_tokens, 'number');
    // A constrained request decodes one token per step (no drafts) in the same loop, and still parses.
    const json = await fetch(`${server.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'nano',
        messages: [{ role: 'user', content: '秋夜' }],
        max_tokens: 40,
        temperature: 0,
        response_format: { type: 'json_object' },
      }),
    });
    const jb = (await json.json()) as {
      choices: { message: { content: string } }[];
      usage: { completion_tokens_details: Record<string, number> };
    };
    assert.equal(typeof JSON.parse(jb.choices[0]!.message.content), 'object');
    assert.equal(jb.usage.completion_tokens_details.accepted_prediction_tokens, 0);
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    const value = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(metrics)?.[1]);
    const accepted = value('dsts_spec_decode_num_accepted_tokens_total');
    assert.ok(accepted >= d.accepted_prediction_tokens + cu.accepted_prediction_tokens!, metrics);
    assert.ok(value('dsts_spec_decode_num_draft_tokens_total') >= accepted);
    assert.ok(value('dsts_spec_decode_num_drafts_total') > 0);
    assert.match(metrics, /^dsts_spec_decode_num_accepted_tokens_per_pos_total\{position="0"\} \d+$/m);
  } finally {
    await server.close();
  }
});

test('dsts serve / generate: --speculative on a checkpoint without MTP weights, and bad flags, fail in one line', () => {
  const run = (...args: string[]) => spawnSync(process.execPath, [DSTS, ...args], { encoding: 'utf8', timeout: PATIENCE_MS });
  const noMtp = run('serve', '--model', tinyModelDir('v3'), '--port', '0', '--speculative', 'mtp');
  assert.equal(noMtp.status, 1);
  assert.match(noMtp.stderr, /^dsts: speculative decoding with mtp needs a checkpoint with Multi-Token Prediction weights .*\n$/);
  const gen = run('generate', '--model', tinyModelDir('v3'), '--prompt', 'hi', '--speculative', 'mtp');
  assert.equal(gen.status, 1);
  assert.match(gen.stderr, /^dsts: speculative decoding with mtp needs .*\n$/);
  const method = run('serve', '--model', NANO, '--speculative', 'eagle');
  assert.equal(method.stderr, "dsts: --speculative must be mtp (the model's own MTP module), got 'eagle'\n");
  const k = run('generate', '--model', NANO, '--prompt', 'x', '--speculative', 'mtp', '--draft-tokens', '0');
  assert.equal(k.stderr, "dsts: --draft-tokens must be an integer from 1 to 16, got '0'\n");
  const alone = run('generate', '--model', NANO, '--prompt', 'x', '--draft-tokens', '2');
  assert.equal(alone.stderr, 'dsts: --draft-tokens needs --speculative mtp\n');
});

test('dsts generate --speculative mtp prints what greedy decoding prints', () => {
  const run = (...extra: string[]) =>
    spawnSync(
      process.execPath,
      [DSTS, 'generate', '--model', NANO, '--prompt', '秋夜\n李白\n', '--max-tokens', '30', '--temperature', '0', '--json', ...extra],
      {
        encoding: 'utf8',
        timeout: PATIENCE_MS,
      },
    );
  const plain = run();
  const spec = run('--speculative', 'mtp', '--draft-tokens', '2');
  assert.equal(plain.status, 0, plain.stderr);
  assert.equal(spec.status, 0, spec.stderr);
  assert.deepEqual(JSON.parse(spec.stdout).ids, JSON.parse(plain.stdout).ids);
});

test('dsts chat --speculative mtp answers greedily what dsts chat answers', () => {
  const chat = (...extra: string[]) =>
    spawnSync(process.execPath, [DSTS, 'chat', '--max-tokens', '20', '--temperature', '0', ...extra], {
      input: '春\n秋\n',
      encoding: 'utf8',
      timeout: PATIENCE_MS,
    });
  const plain = chat();
  const spec = chat('--speculative', 'mtp', '--draft-tokens', '2');
  assert.equal(plain.status, 0, plain.stderr);
  assert.equal(spec.status, 0, spec.stderr);
  assert.ok(plain.stdout.trim().length > 0);
  assert.equal(spec.stdout, plain.stdout);
});
