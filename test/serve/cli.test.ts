// `dsts serve` as a user runs it: a child process that prints its address and serves until SIGTERM.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { embeddedModelReady } from '../../src/cli/commands/serve.ts';
import { tinyModelDir } from './tiny-server.ts';

const DSTS = fileURLToPath(new URL('../../bin/dsts.js', import.meta.url));

/** Runs `dsts serve <args>`, waits for the printed web-chat address, calls `check`, then SIGTERMs it. */
async function serving(args: string[], check: (url: string) => Promise<void>): Promise<void> {
  const child = spawn(process.execPath, [DSTS, 'serve', '--port', '0', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d));
    child.stderr.on('data', (d: Buffer) => (out += d));
    const end = Date.now() + 60_000;
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
  await serving(['--model', tinyModelDir('v3'), '--name', 'cli-tiny'], async (url) => {
    const health = (await (await fetch(`${url}/health`)).json()) as { model: string };
    assert.equal(health.model, 'cli-tiny');
    assert.match(await (await fetch(`${url}/`)).text(), /<title>deepseek-ts chat<\/title>/);
  });
});

test('dsts serve explains bad flags and a missing model in one line', () => {
  const run = (...args: string[]) => spawnSync(process.execPath, [DSTS, 'serve', ...args], { encoding: 'utf8', timeout: 30_000 });
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
    const r = spawnSync(process.execPath, [DSTS, 'serve', '--port', '0'], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /^dsts: the embedded model is not there \(.*models\/deepseek-ts-nano\): train it first, or pass --model <dir>\n$/);
  }
});
