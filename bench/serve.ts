/**
 * Serving benchmark: `dsts serve` in a child process, driven over HTTP by streaming clients the way
 * real users hit it.
 *
 * 1. one streaming client alone (after a warm-up request): tokens/s of a single user;
 * 2. `--clients` (default 32) streaming clients at once, each with its own prompt: aggregate
 *    tokens/s, the batching gain over the single client, time to first token and inter-token latency
 *    percentiles. Every client must finish with `[DONE]` and no error, or the run fails (exit 1).
 *
 * Every request sets `ignore_eos`, so each client generates exactly `--tokens` tokens. Tokens are
 * counted from `usage`; latencies are taken at the client: TTFT to the first chunk carrying text,
 * inter-token latency (ITL) between consecutive text chunks (chunks that arrive in one network read
 * count as 0 ms apart, as a user would see them), and time per output token (TPOT) per client,
 * (last − first chunk) / (tokens − 1).
 *
 * Usage: npm run bench:serve [-- --model <dir> --clients 32 --tokens 128 --json]
 *   default model: the embedded models/deepseek-ts-nano; while it does not exist, the tests' tiny
 *   chat model (a fixture checkpoint + a trained 512-token tokenizer) is built and used instead.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { EMBEDDED_MODEL as EMBEDDED, embeddedModelReady } from '../src/cli/commands/serve.ts';

const { values: flags } = parseArgs({
  options: {
    model: { type: 'string' },
    clients: { type: 'string', default: '32' },
    tokens: { type: 'string', default: '128' },
    json: { type: 'boolean', default: false },
  },
});
const CLIENTS = Number(flags.clients);
const TOKENS = Number(flags.tokens);
const DSTS = fileURLToPath(new URL('../bin/dsts.js', import.meta.url));

interface ClientResult {
  ok: boolean;
  error?: string;
  tokens: number;
  /** ms from sending the request to the first chunk with text. */
  ttft: number;
  /** ms between consecutive text chunks. */
  gaps: number[];
  /** ms from sending to [DONE]. */
  total: number;
  /** ms per token after the first: (last chunk − first chunk) / (tokens − 1). */
  tpot: number;
}

async function resolveModel(): Promise<{ dir: string; note?: string; dispose?: () => void }> {
  if (flags.model) return { dir: flags.model };
  if (embeddedModelReady()) return { dir: EMBEDDED };
  const { buildTinyChatModel } = await import('../test/helpers/tiny-chat-model.ts');
  const m = buildTinyChatModel({ template: 'v3' });
  return {
    dir: m.dir,
    dispose: m.dispose,
    note: `the embedded model (${EMBEDDED}) is not trained yet: using the tests' tiny chat model (DeepSeek-V3 fixture, 3 layers, hidden 64, vocab 512)`,
  };
}

/** Starts `dsts serve` on a free port; resolves with its URL. */
function startServer(dir: string): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(
    process.execPath,
    [DSTS, 'serve', '--model', dir, '--port', '0', '--name', 'bench', '--max-batch', String(Math.max(CLIENTS, 1)), '--no-web'],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  return new Promise((resolve, reject) => {
    let out = '';
    const onData = (d: Buffer) => {
      out += d;
      const m = /API\s+(http:\/\/[^\s]+)\/v1/.exec(out);
      if (m) resolve({ url: m[1]!, child });
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (d: Buffer) => (out += d));
    child.once('exit', (code) => reject(new Error(`dsts serve exited (${code}):\n${out}`)));
    setTimeout(() => reject(new Error(`dsts serve did not start within 120 s:\n${out}`)), 120_000).unref();
  });
}

/** One streaming chat request, timed per chunk. */
async function client(url: string, i: number): Promise<ClientResult> {
  const t0 = performance.now();
  const result: ClientResult = { ok: false, tokens: 0, ttft: NaN, gaps: [], total: NaN, tpot: NaN };
  try {
    const res = await fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'bench',
        messages: [{ role: 'user', content: `Client ${i}: tell me a long story about the number ${i * 7919}.` }],
        max_tokens: TOKENS,
        temperature: 1,
        seed: i,
        ignore_eos: true,
        stream: true,
        stream_options: { include_usage: true },
      }),
      signal: AbortSignal.timeout(600_000),
    });
    if (!res.ok) throw new Error(`HTTP ${res.status}: ${await res.text()}`);
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let buffer = '';
    let last = NaN;
    let done = false;
    while (!done) {
      const { value, done: end } = await reader.read();
      if (end) break;
      buffer += decoder.decode(value, { stream: true });
      let at;
      while ((at = buffer.indexOf('\n\n')) >= 0) {
        const line = buffer.slice(0, at);
        buffer = buffer.slice(at + 2);
        if (!line.startsWith('data: ')) continue;
        const data = line.slice(6);
        if (data === '[DONE]') {
          done = true;
          break;
        }
        const chunk = JSON.parse(data);
        if (chunk.error) throw new Error(chunk.error.message);
        if (chunk.usage) result.tokens = chunk.usage.completion_tokens;
        const d = chunk.choices?.[0]?.delta;
        if (d && (d.content || d.reasoning_content)) {
          const now = performance.now();
          if (Number.isNaN(last)) result.ttft = now - t0;
          else result.gaps.push(now - last);
          last = now;
        }
      }
    }
    if (!done) throw new Error('stream ended without [DONE]');
    if (result.tokens !== TOKENS) throw new Error(`${result.tokens} tokens instead of ${TOKENS}`);
    result.total = performance.now() - t0;
    result.tpot = (last - t0 - result.ttft) / Math.max(1, result.tokens - 1);
    result.ok = true;
  } catch (e) {
    result.error = (e as Error).message;
  }
  return result;
}

function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

const ms = (v: number) => `${v.toFixed(1)} ms`;

async function main(): Promise<number> {
  const model = await resolveModel();
  if (model.note && !flags.json) console.log(`note: ${model.note}`);
  const { url, child } = await startServer(model.dir);
  try {
    await client(url, -1); // warm-up: kernels, caches, JIT
    const single = await client(url, 0);
    if (!single.ok) throw new Error(`single client failed: ${single.error}`);
    const singleRate = (single.tokens / single.total) * 1000;

    const t0 = performance.now();
    const results = await Promise.all(Array.from({ length: CLIENTS }, (_, i) => client(url, i + 1)));
    const wall = performance.now() - t0;
    const failed = results.filter((r) => !r.ok);
    const tokens = results.reduce((n, r) => n + r.tokens, 0);
    const rate = (tokens / wall) * 1000;
    const ttfts = results.filter((r) => r.ok).map((r) => r.ttft);
    const gaps = results.flatMap((r) => r.gaps);
    const tpots = results.filter((r) => r.ok).map((r) => r.tpot);
    const report = {
      model: model.dir,
      note: model.note ?? null,
      clients: CLIENTS,
      tokensPerClient: TOKENS,
      completed: CLIENTS - failed.length,
      errors: failed.map((r) => r.error),
      single: { tokensPerSecond: singleRate, ttftMs: single.ttft, tpotMs: single.tpot },
      concurrent: {
        wallSeconds: wall / 1000,
        tokens,
        tokensPerSecond: rate,
        batchingGain: rate / singleRate,
        ttftMs: { p50: percentile(ttfts, 50), p90: percentile(ttfts, 90), p99: percentile(ttfts, 99) },
        itlMs: { p50: percentile(gaps, 50), p90: percentile(gaps, 90), p99: percentile(gaps, 99) },
        tpotMs: { p50: percentile(tpots, 50), p90: percentile(tpots, 90), p99: percentile(tpots, 99) },
      },
    };
    if (flags.json) {
      console.log(JSON.stringify(report));
    } else {
      const c = report.concurrent;
      console.log(`model: ${model.dir}`);
      console.log(`single client:      ${singleRate.toFixed(1)} tokens/s  (TTFT ${ms(single.ttft)}, TPOT ${ms(single.tpot)})`);
      console.log(
        `${CLIENTS} clients at once: ${rate.toFixed(1)} tokens/s aggregate  (${tokens} tokens in ${c.wallSeconds.toFixed(2)} s) = ${c.batchingGain.toFixed(2)}× the single client`,
      );
      console.log(`  time to first token  p50 ${ms(c.ttftMs.p50)}  p90 ${ms(c.ttftMs.p90)}  p99 ${ms(c.ttftMs.p99)}`);
      console.log(`  inter-token latency  p50 ${ms(c.itlMs.p50)}  p90 ${ms(c.itlMs.p90)}  p99 ${ms(c.itlMs.p99)}`);
      console.log(`  time per out. token  p50 ${ms(c.tpotMs.p50)}  p90 ${ms(c.tpotMs.p90)}  p99 ${ms(c.tpotMs.p99)}`);
      console.log(`  completed ${report.completed}/${CLIENTS}, errors: ${failed.length}`);
      for (const e of report.errors.slice(0, 5)) console.log(`    ${e}`);
    }
    return failed.length === 0 ? 0 : 1;
  } finally {
    child.kill('SIGTERM');
    model.dispose?.();
  }
}

process.exitCode = await main();
