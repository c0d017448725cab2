// `dsts serve` as a user runs it: a child process that prints its address and serves until SIGTERM.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MODELS_DIR } from '../../src/cli/served-models.ts';
import { tinyModelDir } from './tiny-server.ts';
import { PATIENCE_MS } from '../helpers/patience.ts';
import { DSTS, serving } from './serving.ts';

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
    assert.match(
      await (await fetch(`${url}/metrics`)).text(),
      /^dsts_prefix_cache_tokens\{model="cli-tiny"\} 0$/m,
      '--prefix-cache-tokens 0 keeps nothing',
    );
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

test('without --model, dsts serve (npm start) serves every model under models/, deepseek-ts-nano first', async () => {
  const shipped = readdirSync(MODELS_DIR)
    .filter((f) => existsSync(join(MODELS_DIR, f, 'config.json')))
    .sort();
  assert.equal(shipped[0], 'deepseek-ts-nano', 'the poetry model ships');
  await serving([], async (url) => {
    const models = (await (await fetch(`${url}/v1/models`)).json()) as { data: { id: string }[] };
    assert.deepEqual(
      models.data.map((m) => m.id),
      shipped,
    );
  });
});

test('dsts serve --models-dir serves each folder with a config.json by name; --model name=dir names them', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dsts-models-'));
  try {
    for (const [name, template] of [
      ['b-reasoner', 'r1'],
      ['a-poet', 'v3'],
    ] as const)
      cpSync(tinyModelDir(template), join(dir, name), { recursive: true });
    mkdirSync(join(dir, 'c-training')); // a model still being trained: no config.json yet
    await serving(['--models-dir', dir], async (url) => {
      const models = (await (await fetch(`${url}/v1/models`)).json()) as { data: { id: string }[] };
      assert.deepEqual(
        models.data.map((m) => m.id),
        ['a-poet', 'b-reasoner'],
      );
    });
    await serving(['--model', `poet=${join(dir, 'a-poet')}`, '--model', join(dir, 'b-reasoner')], async (url) => {
      const models = (await (await fetch(`${url}/v1/models`)).json()) as { data: { id: string }[] };
      assert.deepEqual(
        models.data.map((m) => m.id),
        ['poet', 'b-reasoner'],
      );
    });
    const run = (...args: string[]) =>
      spawnSync(process.execPath, [DSTS, 'serve', '--port', '0', ...args], { encoding: 'utf8', timeout: PATIENCE_MS });
    const twice = run('--model', `x=${join(dir, 'a-poet')}`, '--model', `x=${join(dir, 'b-reasoner')}`);
    assert.equal(twice.status, 1);
    assert.match(
      twice.stderr,
      /^dsts: two models would be served as 'x' \(.*a-poet and .*b-reasoner\): name one with --model <name>=<dir>\n$/,
    );
    const named = run('--model', join(dir, 'a-poet'), '--model', join(dir, 'b-reasoner'), '--name', 'x');
    assert.equal(named.status, 1);
    assert.equal(named.stderr, 'dsts: --name names the one --model; with several, name each as --model <name>=<dir>\n');
    const empty = run('--models-dir', join(dir, 'c-training'));
    assert.equal(empty.status, 1);
    assert.match(
      empty.stderr,
      /^dsts: no model in .*c-training \(no folder with a config.json\): train one first, or pass --model <dir>\n$/,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
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
