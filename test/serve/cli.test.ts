// `dsts serve` as a user runs it: a child process that prints its address and serves until SIGTERM.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { embeddedModelReady } from '../../src/cli/commands/serve.ts';
import { tinyModelDir } from './tiny-server.ts';
import { PATIENCE_MS } from '../helpers/patience.ts';

const DSTS = fileURLToPath(new URL('../../bin/dsts.js', import.meta.url));

/** Runs `dsts serve <args>`, waits for the printed web-chat address, calls `check`, then SIGTERMs it. */
async function serving(args: string[], check: (url: string) => Promise<void>): Promise<void> {
  const child = spawn(process.execPath, [DSTS, 'serve', '--port', '0', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d));
    child.stderr.on('data', (d: Buffer) => (out += d));
    const end = Date.now() + PATIENCE_MS;
    let url: string | undefined;
    while (!url && Date.now() < end && child.exitCode === null) {
      url = /web chat\s+(http:\/\/127\.0\.0\.1:\d+)\//.exec(out)?.[1];
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(url, `no address printed: ${out}`);
    await check(url);
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    assert.equal(await exited, 0);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
}

test('dsts serve --model <dir> prints its address, serves the API and the chat, and stops on SIGTERM', async () => {
  await serving(['--model', tinyModelDir('v3'), '--name', 'cli-tiny', '--prefix-cache-tokens', '0'], async (url) => {
    const health = (await (await fetch(`${url}/health`)).json()) as { model: string };
    assert.equal(health.model, 'cli-tiny');
    const chat = await fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'cli-tiny', messages: [{ role: 'user', content: 'Hi' }], max_tokens: 3 }),
    });
    assert.equal(chat.status, 200);
    assert.match(await (await fetch(`${url}/metrics`)).text(), /^dsts_prefix_cache_tokens 0$/m, '--prefix-cache-tokens 0 keeps nothing');
    assert.match(await (await fetch(`${url}/`)).text(), /<title>deepseek-ts chat<\/title>/);
  });
});

test('dsts serve explains bad flags and a missing model in one line', () => {
  const run = (...args: string[]) => spawnSync(process.execPath, [DSTS, 'serve', ...args], { encoding: 'utf8', timeout: PATIENCE_MS });
  const missing = run('--model', '/nonexistent/model', '--port', '0');
  assert.equal(missing.status, 1);
  assert.equal(missing.stderr.trim(), 'dsts: no model folder at /nonexistent/model');
  const port = run('--model', tinyModelDir('v3'), '--port', 'eighty');
  assert.equal(port.status, 1);
  assert.equal(port.stderr.trim(), "dsts: --port expects a number, got 'eighty'");
});

test('without --model, dsts serve (npm start) uses the embedded model, or says it is missing', async () => {
  if (embeddedModelReady()) {
    await serving([], async (url) => {
      const models = (await (await fetch(`${url}/v1/models`)).json()) as { data: { id: string }[] };
      assert.equal(models.data[0]!.id, 'deepseek-ts-nano');
    });
  } else {
    const r = spawnSync(process.execPath, [DSTS, 'serve', '--port', '0'], { encoding: 'utf8', timeout: PATIENCE_MS });
    assert.equal(r.status, 1);
    assert.match(
      r.stderr,
      /^dsts: the embedded model is not there \(.*models\/deepseek-ts-nano\): train it first, or pass --model <dir>\n$/,
    );
  }
});

test('a busy port, a port out of range and an address not on this machine are one line and exit 1, no stack', async () => {
  const run = (...args: string[]) =>
    spawnSync(process.execPath, [DSTS, 'serve', '--model', tinyModelDir('v3'), ...args], { encoding: 'utf8', timeout: PATIENCE_MS });
  const range = run('--port', '99999');
  assert.equal(range.status, 1);
  assert.equal(range.stderr, 'dsts: port 99999 is out of range: use 0–65535 (0 picks a free one)\n');
  // Hold a port, as a first `npm start` would.
  const holder = createServer();
  await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
  const port = (holder.address() as AddressInfo).port;
  try {
    const busy = spawnSync(process.execPath, [DSTS, 'serve', '--model', tinyModelDir('v3'), '--port', String(port)], {
      encoding: 'utf8',
      timeout: PATIENCE_MS,
    });
    assert.equal(busy.status, 1);
    assert.equal(
      busy.stderr,
      `dsts: cannot listen on 127.0.0.1:${port}: the port is already in use (is another server running? pick another with --port)\n`,
    );
  } finally {
    holder.close();
  }
  const host = run('--host', '203.0.113.7', '--port', '0'); // TEST-NET-3: never a local address
  assert.equal(host.status, 1);
  assert.equal(host.stderr, 'dsts: cannot listen on 203.0.113.7:0: 203.0.113.7 is not an address of this machine (see --host)\n');
});
