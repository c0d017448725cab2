// Search and files in the web chat, in a real browser (Debian's headless Chromium, playwright-core):
// the search toggle, attached files, the sources under an answer, [citation:X] links — and page text
// from documents shown as text, never run as HTML.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { openChatPage } from './chat-page.ts';
import { LocalIndex, type RunningServer } from '../../src/serve/index.ts';
import { endless, startTinyServer } from './tiny-server.ts';
import { PATIENCE_MS } from '../helpers/patience.ts';

declare const window: any;
declare const localStorage: any;

const root = mkdtempSync(join(tmpdir(), 'dsts-web-search-'));
const HOSTILE = '<img src=x onerror="window.pwned=1"> Etna erupts <script>window.pwned=2</script>';
writeFileSync(join(root, 'etna.txt'), `Mount Etna volcano facts. ${HOSTILE}`);
writeFileSync(join(root, 'eiffel.md'), '# The Eiffel Tower\n\nThe Eiffel Tower volcano of iron is 330 metres tall.');

let server: RunningServer;
let plain: RunningServer;
let browser: Browser;
let page: Page;
let sent: any[];
let pageErrors: string[];

before(async () => {
  const index = await LocalIndex.open(root, { cacheDir: join(root, '.cache'), watch: false });
  server = await startTinyServer({ template: 'v3', context: 4096, search: { backend: index } });
  endless(server, true);
  plain = await startTinyServer({ template: 'v3' });
  ({ browser, page, sent, pageErrors } = await openChatPage(server.url, { maxTokens: 6 }));
});

after(async () => {
  await browser?.close();
  rmSync(root, { recursive: true, force: true });
});

async function say(p: Page, text: string): Promise<void> {
  const before = await p.locator('[data-testid=message-assistant]').count();
  await p.fill('[data-testid=input]', text);
  await p.press('[data-testid=input]', 'Enter');
  await p.waitForFunction((n: number) => document.querySelectorAll('[data-testid=message-assistant]').length > n, before);
  await p.waitForSelector('[data-testid=send]:not([hidden])');
}
declare const document: any;

test('the search toggle is shown only when the server can search, and is off by default', async () => {
  assert.equal(await page.isVisible('[data-testid=search-toggle]'), true);
  assert.equal(await page.getAttribute('[data-testid=search-toggle]', 'aria-pressed'), 'false');
  const other = await browser.newPage();
  await other.goto(plain.url);
  await other.waitForSelector('body[data-ready="1"]');
  assert.equal(await other.isVisible('[data-testid=search-toggle]'), false);
  await other.close();
});

test('with search on, the request asks for it and the sources appear under the answer, as text', async () => {
  await page.click('[data-testid=search-toggle]');
  assert.equal(await page.getAttribute('[data-testid=search-toggle]', 'aria-pressed'), 'true');
  await say(page, 'Tell me about the Etna volcano');
  assert.equal(sent.at(-1).search, true);
  const sources = page.locator('[data-testid=message-assistant]').last().locator('[data-testid=source]');
  assert.ok((await sources.count()) >= 1);
  assert.match((await sources.first().textContent())!, /etna\.txt/);
  // The document's markup is shown as characters, never made into elements.
  const snippet = await sources.first().locator('[data-testid=source-snippet]').textContent();
  assert.ok(snippet!.includes('<img src=x'), snippet!);
  assert.equal(await page.locator('.sources img, .sources script').count(), 0);
  assert.equal(await page.evaluate(() => window.pwned), undefined);
  // The choice is kept: a reload finds the toggle still on, and the sources still there.
  await page.reload();
  await page.waitForSelector('body[data-ready="1"]');
  assert.equal(await page.getAttribute('[data-testid=search-toggle]', 'aria-pressed'), 'true');
  assert.ok((await page.locator('[data-testid=source]').count()) >= 1);
  await page.click('[data-testid=search-toggle]');
  await say(page, 'And without search?');
  assert.equal(sent.at(-1).search, false);
});

test('attached files go with the message, as the file template expects', async () => {
  await page.setInputFiles('[data-testid=file-input]', [
    { name: 'notes.md', mimeType: 'text/markdown', buffer: Buffer.from('# Notes\n\nThe meeting is at noon.') },
    { name: 'blob.bin', mimeType: 'application/octet-stream', buffer: Buffer.from([0, 1, 2, 0, 255]) },
  ]);
  await page.waitForSelector('[data-testid=file-chip]');
  assert.equal(await page.locator('[data-testid=attachments] [data-testid=file-chip]').count(), 1, 'the binary file is refused');
  assert.match((await page.textContent('[data-testid=status]'))!, /blob\.bin is not a text file/);
  await say(page, 'When is the meeting?');
  assert.deepEqual(sent.at(-1).files, [{ name: 'notes.md', content: '# Notes\n\nThe meeting is at noon.' }]);
  assert.equal(sent.at(-1).messages.at(-1).content, 'When is the meeting?');
  assert.equal(await page.isHidden('[data-testid=attachments]'), true, 'sent files leave the composer');
  const shown = page.locator('[data-testid=message-user]').last().locator('[data-testid=file-chip]');
  assert.match((await shown.textContent())!, /notes\.md/);
  // The next message goes without them.
  await say(page, 'Thanks');
  assert.equal(sent.at(-1).files, undefined);
});

test('a search that fails shows its notice, and the answer still comes', async () => {
  const broken = await startTinyServer({
    template: 'v3',
    context: 4096,
    search: { backend: { name: 'broken', search: async () => Promise.reject(new Error('<b>index</b> unreadable')) }, default: true },
  });
  endless(broken, true);
  const p = await browser.newPage();
  p.setDefaultTimeout(PATIENCE_MS);
  await p.goto(broken.url);
  await p.waitForSelector('body[data-ready="1"]');
  assert.equal(await p.getAttribute('[data-testid=search-toggle]', 'aria-pressed'), 'true', 'on: the server default');
  await say(p, 'Anything new?');
  const notice = await p.textContent('[data-testid=search-notice]');
  assert.equal(notice, 'search (broken) failed: <b>index</b> unreadable; answered without results');
  assert.equal(await p.locator('[data-testid=source]').count(), 0);
  assert.ok(((await p.textContent('[data-testid=message-assistant] [data-testid=answer]')) ?? '').length > 0, 'the answer came');
  assert.equal(await p.locator('[data-testid=error]').count(), 0);
  await p.close();
});

test('[citation:X] becomes a numbered link to its source; code and unknown numbers are left alone', async () => {
  await page.evaluate(() => {
    const conversation = {
      id: 'cite',
      title: 'Citations',
      updated: Date.now() + 1000,
      messages: [
        { role: 'user', content: 'How tall?' },
        {
          role: 'assistant',
          content: 'It is 330 m tall[citation:1], made of iron[citation:2][citation:9]. `[citation:1]`',
          search: {
            results: [
              { id: 1, title: 'Eiffel Tower', url: 'https://en.wikipedia.org/wiki/Eiffel_Tower', snippet: 'The tower is 330 m tall.' },
              { id: 2, title: 'Local notes', url: 'notes/eiffel.md', snippet: '<b>iron</b>' },
            ],
            notices: [],
          },
        },
      ],
    };
    localStorage.setItem(
      'dsts.conversations',
      JSON.stringify([conversation, ...JSON.parse(localStorage.getItem('dsts.conversations') ?? '[]')]),
    );
    localStorage.setItem('dsts.current', 'cite');
  });
  await page.reload();
  await page.waitForSelector('body[data-ready="1"]');
  const answer = page.locator('[data-testid=answer]').last();
  const links = answer.locator('[data-testid=citation]');
  assert.equal(await links.count(), 2);
  assert.equal(await links.nth(0).textContent(), '1');
  assert.equal(await links.nth(0).getAttribute('href'), 'https://en.wikipedia.org/wiki/Eiffel_Tower');
  assert.equal(await links.nth(0).getAttribute('rel'), 'noopener noreferrer');
  assert.equal(await links.nth(1).textContent(), '2');
  // A local document has no web page: its citation points at its entry under the answer.
  const href = (await links.nth(1).getAttribute('href'))!;
  assert.match(href, /^#m\d+-source-2$/);
  assert.equal(await page.locator(href).count(), 1);
  assert.match((await answer.textContent())!, /\[citation:9\]/);
  assert.equal(await answer.locator('code').textContent(), '[citation:1]');
  assert.equal(await page.locator('.sources b').count(), 0);
  assert.deepEqual(pageErrors, []);
});
