// The search backends on their own: a local folder (ranking in English and Chinese, hostile files,
// the saved index, watching) and a fake SearXNG instance on loopback (results, errors, timeouts).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalIndex, SearxngBackend, runSearch, type SearchBackend } from '../../src/serve/index.ts';
import { until } from '../helpers/patience.ts';

const root = mkdtempSync(join(tmpdir(), 'dsts-search-'));
const docs = join(root, 'docs');
const cache = join(root, 'cache');
const open: { close(): unknown }[] = [];
after(async () => {
  for (const o of open) await o.close();
  rmSync(root, { recursive: true, force: true });
});

const FILES: Record<string, string | Buffer> = {
  'eiffel.md':
    '# The Eiffel Tower\n\nThe Eiffel Tower in Paris is 330 metres tall. It was finished in 1889 for the World Fair.\n\nGustave Eiffel’s company built it.',
  'louvre.md': '# The Louvre\n\nThe Louvre in Paris is the most visited museum in the world. It holds the Mona Lisa.',
  'berlin.txt': 'Berlin is the capital of Germany. The Brandenburg Gate and the TV tower stand in Berlin; the TV tower is 368 metres tall.',
  'recipes/bread.md': '# Bread\n\nMix flour, water, salt and yeast. Let the dough rise for two hours, then bake it at 230 degrees.',
  'greatwall.txt': '长城是中国古代的军事防御工程，总长度超过两万一千公里，修建历史可以追溯到西周时期。',
  'beijing.txt': '北京是中华人民共和国的首都，也是全国的政治和文化中心。故宫位于北京市中心。',
  'panda.txt': '大熊猫是中国特有的动物，主要生活在四川的山区，以竹子为食。',
  'page.html':
    '<html><head><title>Volcano facts</title><style>.x{color:red}</style><script>var secretscriptword = 1; alert("pwned")</script></head>' +
    '<body><h1>Volcanoes</h1><p>Mount Etna is the most active volcano in Europe.</p><script>document.write("hiddenscriptword")</script></body></html>',
  'binary.txt': Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0, 0, 0, 1, 2, 3, 0, 0x62, 0x69, 0x6e]),
  'broken.md': Buffer.concat([
    Buffer.from('# Broken\n\nThis file about glaciers has '),
    Buffer.from([0xc3, 0x28, 0xff, 0xfe]),
    Buffer.from(' invalid bytes.'),
  ]),
  'huge.txt': `${'filler words about nothing in particular. '.repeat(120_000)}needleattheend`,
  'ignored.pdf': 'not a document type the index reads',
};

mkdirSync(join(docs, 'recipes'), { recursive: true });
for (const [name, body] of Object.entries(FILES)) writeFileSync(join(docs, name), body);

async function openIndex(): Promise<LocalIndex> {
  const ix = await LocalIndex.open(docs, { cacheDir: cache, maxFileBytes: 1024 * 1024, debounceMs: 20 });
  open.push(ix);
  return ix;
}

const search = (b: SearchBackend, q: string, limit = 5) => b.search(q, { limit, signal: new AbortController().signal });

let index: LocalIndex;

test('local: every readable document is indexed; binary and unknown files are not', async () => {
  index = await openIndex();
  // 12 files: the PDF is not read, the binary one is skipped.
  assert.equal(index.size, 10);
  assert.equal(index.lastSync.skipped, 1);
});

test('local: the answering document ranks first, in English', async () => {
  const tower = await search(index, 'How tall is the Eiffel Tower?');
  assert.equal(tower[0]!.url, 'eiffel.md');
  assert.equal(tower[0]!.title, 'The Eiffel Tower');
  assert.match(tower[0]!.content!, /330 metres/);
  assert.equal((await search(index, 'how long should bread dough rise'))[0]!.url, 'recipes/bread.md');
  assert.equal((await search(index, 'Mona Lisa museum'))[0]!.url, 'louvre.md');
  assert.equal((await search(index, 'capital of Germany'))[0]!.url, 'berlin.txt');
});

test('local: the answering document ranks first, in Chinese (no spaces between words)', async () => {
  assert.equal((await search(index, '长城有多长？'))[0]!.url, 'greatwall.txt');
  assert.equal((await search(index, '中国的首都是哪里'))[0]!.url, 'beijing.txt');
  assert.equal((await search(index, '大熊猫吃什么'))[0]!.url, 'panda.txt');
});

test('local: HTML is read as text, never its scripts', async () => {
  const hits = await search(index, 'active volcano Europe');
  assert.equal(hits[0]!.url, 'page.html');
  assert.equal(hits[0]!.title, 'Volcano facts');
  assert.doesNotMatch(hits[0]!.content!, /<|alert|secretscriptword/);
  assert.deepEqual(await search(index, 'secretscriptword'), []);
  assert.deepEqual(await search(index, 'hiddenscriptword'), []);
});

test('local: invalid UTF-8 and huge files are indexed within bounds', async () => {
  const glacier = await search(index, 'glaciers');
  assert.equal(glacier[0]!.url, 'broken.md');
  assert.match(glacier[0]!.content!, /\uFFFD/);
  // Only the first MiB of the 5 MiB file is read: its last word is not in the index.
  assert.deepEqual(await search(index, 'needleattheend'), []);
  const filler = await search(index, 'filler particular');
  assert.equal(filler[0]!.url, 'huge.txt');
  assert.ok(filler[0]!.content!.length <= 4000, 'the model gets a passage, not the whole file');
});

test('local: a query matching nothing gives no results', async () => {
  assert.deepEqual(await search(index, 'xylophonequartzjump'), []);
  assert.deepEqual(await search(index, '   '), []);
});

test('local: the index is saved, and a restart reads only the files that changed', async () => {
  await index.close();
  const again = await openIndex();
  assert.deepEqual(again.lastSync, { read: 0, removed: 0, skipped: 0 });
  assert.equal((await search(again, 'How tall is the Eiffel Tower?'))[0]!.url, 'eiffel.md');
  await again.close();
  writeFileSync(join(docs, 'louvre.md'), '# The Louvre\n\nThe Louvre pyramid is made of glass and steel.');
  rmSync(join(docs, 'panda.txt'));
  index = await openIndex();
  assert.deepEqual(index.lastSync, { read: 1, removed: 1, skipped: 0 });
  assert.equal((await search(index, 'glass pyramid'))[0]!.url, 'louvre.md');
  assert.deepEqual(await search(index, '大熊猫'), []);
});

test('local: files written while serving are found, removed ones are dropped', async () => {
  writeFileSync(join(docs, 'rivers.md'), '# Rivers\n\nThe Danube flows through ten countries.');
  await until(async () => (await search(index, 'Danube countries'))[0]?.url === 'rivers.md', 'the new file to be indexed');
  rmSync(join(docs, 'rivers.md'));
  await until(async () => (await search(index, 'Danube')).length === 0, 'the removed file to leave the index');
});

test('local: a missing folder is a clear error', async () => {
  await assert.rejects(LocalIndex.open(join(root, 'nope'), { cacheDir: cache }), /does not exist/);
});

// ---- runSearch: bounded in time, never throwing --------------------------------------------------

test('runSearch: a backend that fails or hangs gives a notice and no results', async () => {
  const failing: SearchBackend = { name: 'broken', search: async () => Promise.reject(new Error('disk on fire')) };
  const failed = await runSearch(failing, 'q', { limit: 3, timeoutMs: 60_000 });
  assert.deepEqual(failed.results, []);
  assert.match(failed.notice!, /search \(broken\) failed: disk on fire/);
  let aborted = false;
  const hanging: SearchBackend = {
    name: 'slow',
    search: (_q, o) =>
      new Promise(() => {
        o.signal.addEventListener('abort', () => (aborted = true));
      }),
  };
  const late = await runSearch(hanging, 'q', { limit: 3, timeoutMs: 50 });
  assert.deepEqual(late.results, []);
  assert.match(late.notice!, /timed out after 50 ms/);
  assert.ok(aborted, 'the backend is told to stop');
});

// ---- SearXNG ---------------------------------------------------------------------------------------

/** A fake SearXNG: answers /search by the query's first word. */
async function fakeSearxng(): Promise<{ url: string; server: Server; seen: URL[] }> {
  const seen: URL[] = [];
  const server = createServer((req, res) => {
    const url = new URL(req.url!, 'http://x');
    seen.push(url);
    const q = url.searchParams.get('q') ?? '';
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (url.pathname !== '/search') return json(404, {});
    if (q.startsWith('hang')) return; // never answers
    if (q.startsWith('boom')) return json(500, { error: 'engine crashed' });
    if (q.startsWith('forbidden')) return json(403, {});
    if (q.startsWith('garbage')) {
      res.writeHead(200, { 'content-type': 'application/json' });
      return res.end('<html>not json');
    }
    if (q.startsWith('nothing')) return json(200, { query: q, results: [] });
    json(200, {
      query: q,
      results: [
        {
          url: 'https://en.wikipedia.org/wiki/Eiffel_Tower',
          title: 'Eiffel Tower - Wikipedia',
          content: 'The tower is 330 m tall.',
          score: 3,
        },
        { url: 'javascript:alert(1)', title: 'evil', content: 'x' },
        { url: 'https://www.toureiffel.paris/en', title: '', content: '<b>Official</b> site', score: 1 },
        { url: 'https://example.com/3', title: 'Third', content: 'third' },
      ],
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  open.push({ close: () => new Promise((r) => (server.closeAllConnections(), server.close(r))) });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server, seen };
}

test('searxng: results in the engine’s order, http(s) links only, format=json asked', async () => {
  const fake = await fakeSearxng();
  const sx = new SearxngBackend({ url: `${fake.url}/`, params: { language: 'en' } });
  const hits = await search(sx, 'eiffel tower height', 2);
  assert.deepEqual(
    hits.map((h) => [h.title, h.url, h.snippet]),
    [
      ['Eiffel Tower - Wikipedia', 'https://en.wikipedia.org/wiki/Eiffel_Tower', 'The tower is 330 m tall.'],
      ['https://www.toureiffel.paris/en', 'https://www.toureiffel.paris/en', '<b>Official</b> site'],
    ],
  );
  const asked = fake.seen.at(-1)!;
  assert.equal(asked.searchParams.get('format'), 'json');
  assert.equal(asked.searchParams.get('q'), 'eiffel tower height');
  assert.equal(asked.searchParams.get('language'), 'en');
  assert.deepEqual(await search(sx, 'nothing here'), []);
});

test('searxng: errors and timeouts become notices', async () => {
  const fake = await fakeSearxng();
  const sx = new SearxngBackend({ url: fake.url });
  const run = (q: string, timeoutMs = 60_000) => runSearch(sx, q, { limit: 5, timeoutMs });
  assert.match((await run('boom')).notice!, /SearXNG answered HTTP 500/);
  assert.match((await run('forbidden')).notice!, /HTTP 403.*format=json/);
  assert.match((await run('garbage')).notice!, /not JSON/);
  const late = await run('hang', 100);
  assert.deepEqual(late.results, []);
  assert.match(late.notice!, /timed out/);
  // Nothing listens on a closed port: a connection error, not a hang.
  const closed = await fakeSearxng();
  await new Promise((r) => (closed.server.closeAllConnections(), closed.server.close(r)));
  assert.match((await runSearch(new SearxngBackend({ url: closed.url }), 'q', { limit: 5, timeoutMs: 60_000 })).notice!, /failed/);
  assert.throws(() => new SearxngBackend({ url: 'not a url' }), /not a URL/);
});
