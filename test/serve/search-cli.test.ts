// `dsts serve --search …` as a user runs it: bad search flags are one line and exit 1; a local
// folder is indexed at start, announced, reported by /health, and let go on SIGTERM.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tinyModelDir } from './tiny-server.ts';
import { PATIENCE_MS } from '../helpers/patience.ts';

const DSTS = fileURLToPath(new URL('../../bin/dsts.js', import.meta.url));
const root = mkdtempSync(join(tmpdir(), 'dsts-search-cli-'));
after(() => rmSync(root, { recursive: true, force: true }));

test('bad search flags are one line and exit 1', () => {
  const run = (...args: string[]) =>
    spawnSync(process.execPath, [DSTS, 'serve', '--model', tinyModelDir('v3'), '--port', '0', ...args], {
      encoding: 'utf8',
      timeout: PATIENCE_MS,
    });
  const cases: [string[], string][] = [
    [['--search', 'google'], "dsts: --search expects one of local, searxng, got 'google'\n"],
    [['--search', 'local'], 'dsts: --search local needs --search-dir <folder of documents>\n'],
    [['--search', 'searxng'], 'dsts: --search searxng needs --searxng-url <base URL of the instance>\n'],
    [['--search-dir', root], 'dsts: --search-dir needs --search <local|searxng>\n'],
    [
      ['--search', 'local', '--search-dir', join(root, 'none')],
      `dsts: the search folder '${join(root, 'none')}' does not exist or is not a folder\n`,
    ],
    [['--search', 'searxng', '--searxng-url', 'ftp://x'], "dsts: the SearXNG URL 'ftp://x' must be http(s)\n"],
    [
      ['--search', 'searxng', '--searxng-url', 'http://x', '--search-default', 'yes'],
      "dsts: --search-default expects on or off, got 'yes'\n",
    ],
    [['--search', 'searxng', '--searxng-url', 'http://x', '--search-results', '99'], 'dsts: --search-results expects 1 to 50\n'],
  ];
  for (const [args, message] of cases) {
    const r = run(...args);
    assert.equal(r.status, 1, args.join(' '));
    assert.equal(r.stderr, message);
  }
});

test('dsts serve --search local indexes the folder, saves the index, and serves searches', async () => {
  const docs = join(root, 'docs');
  const cache = join(root, 'cache');
  mkdirSync(docs);
  writeFileSync(join(docs, 'eiffel.md'), '# The Eiffel Tower\n\nThe Eiffel Tower is 330 metres tall.');
  const child = spawn(
    process.execPath,
    [
      DSTS,
      'serve',
      '--model',
      tinyModelDir('v3'),
      '--port',
      '0',
      '--search',
      'local',
      '--search-dir',
      docs,
      '--search-cache',
      cache,
      '--search-default',
      'on',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
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
    assert.match(out, /search {4}local \(on by default\)/);
    const health = (await (await fetch(`${url}/health`)).json()) as { search: unknown };
    assert.deepEqual(health.search, { backend: 'local', default: true });
    assert.equal(readdirSync(cache).filter((f) => f.endsWith('.json')).length, 1, 'the index is saved');
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    assert.equal(await exited, 0, 'the watcher does not keep it running');
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
});
