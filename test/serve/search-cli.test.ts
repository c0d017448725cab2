// `dsts serve --search …` as a user runs it: bad search flags are one line and exit 1; a local
// folder is indexed at start, announced, reported by /health, and let go on SIGTERM.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tinyModelDir } from './tiny-server.ts';
import { DSTS, serving } from './serving.ts';
import { PATIENCE_MS } from '../helpers/patience.ts';

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
  await serving(
    ['--model', tinyModelDir('v3'), '--search', 'local', '--search-dir', docs, '--search-cache', cache, '--search-default', 'on'],
    async (url, printed) => {
      assert.match(printed, /search {4}local \(on by default\)/);
      const health = (await (await fetch(`${url}/health`)).json()) as { search: unknown };
      assert.deepEqual(health.search, { backend: 'local', default: true });
      assert.equal(readdirSync(cache).filter((f) => f.endsWith('.json')).length, 1, 'the index is saved');
    },
  );
});
