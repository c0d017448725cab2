// The web chat in a real browser: Debian's headless Chromium driven by playwright-core.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { openChatPage } from './chat-page.ts';
import { fileURLToPath } from 'node:url';
import { loadServedModel, startServer, type RunningServer } from '../../src/serve/index.ts';
import { endless, pace, startTinyServer } from './tiny-server.ts';
import { until } from '../helpers/patience.ts';

// Browser globals, used inside page.evaluate callbacks (which run in the page). The project is
// type-checked without the DOM library, so they are declared loosely here.
declare const window: any;
declare const document: any;
declare const localStorage: any;
declare const MutationObserver: any;

let server: RunningServer;
let browser: Browser;
let page: Page;
let sent: any[];
let pageErrors: string[];

before(async () => {
  server = await startTinyServer({ template: 'r1', thinkingBudget: 6 });
  // The page cannot ask for ignore_eos, and the random model ends about one answer in 40 within its
  // first tokens, before any answer text (or before stop is clicked): answers here run to their limit.
  endless(server, true);
  ({ browser, page, sent, pageErrors } = await openChatPage(server.url));
});

after(async () => {
  await browser?.close();
});

async function setSettings(p: Page, s: { system?: string; maxTokens?: number; temperature?: number }): Promise<void> {
  await p.click('[data-testid=open-settings]');
  if (s.system !== undefined) await p.fill('[data-testid=setting-system]', s.system);
  if (s.maxTokens !== undefined) await p.fill('[data-testid=setting-max-tokens]', String(s.maxTokens));
  if (s.temperature !== undefined) await p.locator('[data-testid=setting-temperature]').fill(String(s.temperature));
  await p.click('[data-testid=save-settings]');
}

test('shows the served model', async () => {
  assert.equal(await page.textContent('[data-testid=model-name]'), 'tiny');
});

test('typing a message streams an answer, with the thinking folded in its own block', async () => {
  await setSettings(page, { system: 'You are terse.', maxTokens: 40, temperature: 0.5 });
  // Count the distinct states the answer goes through while it streams.
  await page.evaluate(() => {
    const w = window;
    w.states = new Set();
    new MutationObserver(() => {
      const a = document.querySelector('.message.assistant.streaming');
      if (a) w.states.add(a.textContent ?? '');
    }).observe(document.querySelector('[data-testid=messages]')!, { subtree: true, childList: true, characterData: true });
  });
  // ≥ 100 ms a step, so the chunks arrive apart and the page renders each, even when a loaded machine
  // leaves the browser little time (at 20 ms it could read the whole answer at once).
  pace(server, 100);
  await page.fill('[data-testid=input]', 'Hello there!');
  await page.press('[data-testid=input]', 'Enter');
  // The answer's element exists once the request has started; then the send button comes back when
  // it ends. (Waiting for the streaming state itself would hang when a loaded browser first looks
  // after the answer has finished; the observer above records the states whatever the timing.)
  await page.waitForSelector('[data-testid=message-assistant]');
  await page.waitForSelector('[data-testid=send]:not([hidden])');
  pace(server, 0);
  const answer = await page.textContent('[data-testid=message-assistant] [data-testid=answer]');
  assert.ok(answer && answer.length > 0, 'the answer has text');
  const states = await page.evaluate(() => window.states.size);
  assert.ok(states >= 3, `the answer appeared in ${states} steps, not streamed`);
  const thinking = page.locator('[data-testid=thinking]');
  assert.equal(await thinking.count(), 1);
  assert.match((await thinking.locator('summary').textContent())!, /^Thought/);
  assert.equal(await thinking.evaluate((d: { open: boolean }) => d.open), false, 'folded once the answer came');
  const req = sent.at(-1);
  assert.equal(req.stream, true);
  assert.deepEqual(req.stream_options, { include_usage: true });
  assert.equal(req.max_tokens, 40);
  assert.equal(req.temperature, 0.5);
  assert.deepEqual(req.messages, [
    { role: 'system', content: 'You are terse.' },
    { role: 'user', content: 'Hello there!' },
  ]);
});

test('the stop button stops a generation, in the page and on the server', async () => {
  // ≥ 100 ms a step: the answer (up to the 512-token context) runs for most of a minute on any
  // machine, so it is still running when the page clicks stop, however slowly a loaded machine's
  // browser gets there (at 20 ms a step, a busy CI machine's browser once arrived after the end).
  pace(server, 100);
  await setSettings(page, { maxTokens: 5000 });
  await page.fill('[data-testid=input]', 'Write a long essay.');
  await page.click('[data-testid=send]');
  await page.waitForSelector('[data-testid=stop]:not([hidden])');
  await page.waitForFunction(() => (document.querySelectorAll('[data-testid=answer]')[1]?.textContent ?? '').length > 5);
  await page.click('[data-testid=stop]');
  await page.waitForSelector('[data-testid=stopped]');
  assert.equal(await page.isHidden('[data-testid=stop]'), true);
  await until(() => server.context.scheduler.runningCount === 0, 'the server to stop generating');
  pace(server, 0);
  assert.equal(server.context.metrics.finished.get({ model: 'tiny', reason: 'abort' }), 1);
  // Earlier answers go back without their reasoning.
  const history = sent.at(-1).messages;
  assert.ok(history.every((m: { reasoning_content?: string }) => m.reasoning_content === undefined));
  assert.equal(history.filter((m: { role: string }) => m.role === 'assistant').length, 1);
});

test('conversations are kept in the browser across reloads', async () => {
  await page.reload();
  await page.waitForSelector('body[data-ready="1"]');
  assert.equal(await page.locator('[data-testid=conversation]').count(), 1);
  assert.equal(await page.locator('[data-testid=message-user]').count(), 2);
  assert.equal(await page.locator('[data-testid=message-assistant]').count(), 2);
  assert.equal(await page.locator('[data-testid=stopped]').count(), 1);
  await page.click('[data-testid=new-chat]');
  assert.equal(await page.locator('[data-testid=message-user]').count(), 0);
  assert.equal(await page.isVisible('[data-testid=empty]'), true);
});

test('answers render as sanitized markdown with code blocks', async () => {
  const markdown =
    '## Plan\n\nUse **bold** and `code`:\n\n```js\nconst x = 1;\n```\n\n<img src=x onerror="window.pwned=1"><script>window.pwned=2</script>';
  await page.evaluate((content) => {
    const conversation = {
      id: 'md',
      title: 'Markdown',
      updated: Date.now() + 1000,
      messages: [
        { role: 'user', content: 'Show markdown' },
        { role: 'assistant', content },
      ],
    };
    localStorage.setItem(
      'dsts.conversations',
      JSON.stringify([conversation, ...JSON.parse(localStorage.getItem('dsts.conversations') ?? '[]')]),
    );
    localStorage.setItem('dsts.current', 'md');
  }, markdown);
  await page.reload();
  await page.waitForSelector('body[data-ready="1"]');
  const answer = page.locator('[data-testid=answer]');
  assert.equal(await answer.locator('h2').textContent(), 'Plan');
  assert.equal(await answer.locator('strong').textContent(), 'bold');
  assert.equal(await answer.locator('pre code.language-js').textContent(), 'const x = 1;\n');
  assert.equal(await answer.locator('.code-bar span').textContent(), 'js');
  assert.equal(await answer.locator('script').count(), 0);
  assert.equal(await answer.locator('[onerror]').count(), 0);
  assert.equal(await page.evaluate(() => window.pwned), undefined);
});

/** Sends a message and waits until the reply has ended. */
async function say(p: Page, text: string): Promise<void> {
  const before = await p.locator('[data-testid=message-assistant]').count();
  await p.fill('[data-testid=input]', text);
  await p.press('[data-testid=input]', 'Enter');
  await p.waitForFunction((n: number) => document.querySelectorAll('[data-testid=message-assistant]').length > n, before);
  await p.waitForSelector('[data-testid=send]:not([hidden])');
}

test('max tokens are capped at what the server allows', async () => {
  await setSettings(page, { maxTokens: 100000 });
  await page.click('[data-testid=open-settings]');
  assert.equal(await page.inputValue('[data-testid=setting-max-tokens]'), '512', "capped at the model's context");
  await page.click('[data-testid=save-settings]');
  await setSettings(page, { maxTokens: 40 });
});

test('when the conversation outgrows the context, the oldest turns are left out with a notice; failed turns are not sent again', async () => {
  await page.click('[data-testid=new-chat]');
  const long = 'Tell me about the weather in Paris and in Berlin, and what the quick brown fox does. '.repeat(4);
  for (let i = 0; i < 6 && (await page.locator('[data-testid=context-notice]').count()) === 0; i++) await say(page, `${long}${i}`);
  assert.equal(await page.locator('[data-testid=context-notice]').count(), 1, 'a notice says turns were left out');
  assert.equal(await page.locator('[data-testid=error]').count(), 0, 'no turn failed');
  const trimmed = sent.at(-1).messages;
  assert.ok(!trimmed.some((m: { content: string }) => m.content === `${long}0`), 'the oldest question was left out');

  await page.click('[data-testid=new-chat]');
  await say(page, 'word '.repeat(3000)); // longer than the context on its own: the server refuses it
  assert.equal(await page.locator('[data-testid=error]').count(), 1);
  await say(page, 'Hello again');
  assert.deepEqual(
    sent.at(-1).messages.map((m: { content: string }) => m.content),
    ['You are terse.', 'Hello again'],
    'the failed turn is not sent again',
  );
});

test('on a phone-width screen the conversations open from a menu button', async () => {
  const phone = await browser.newPage({ viewport: { width: 390, height: 800 } });
  try {
    await phone.goto(server.url);
    await phone.waitForSelector('body[data-ready="1"]');
    assert.equal(await phone.isVisible('.sidebar'), false);
    assert.equal(await phone.isVisible('[data-testid=menu]'), true);
    await phone.click('[data-testid=menu]');
    assert.equal(await phone.isVisible('[data-testid=new-chat]'), true);
    await phone.click('[data-testid=new-chat]');
    assert.equal(await phone.isVisible('.sidebar'), false, 'choosing closes it');
  } finally {
    await phone.close();
  }
  assert.equal(await page.isVisible('[data-testid=menu]'), false, 'no menu button on a wide screen');
});

test('with --api-key, the key entered in the settings is sent as a Bearer token', async () => {
  const locked = await startTinyServer({ template: 'v3', apiKey: 'sekret' });
  const p = await browser.newPage();
  const auth: (string | undefined)[] = [];
  p.on('request', (r) => {
    if (r.url().endsWith('/v1/chat/completions')) auth.push(r.headers().authorization);
  });
  try {
    await p.goto(locked.url);
    await p.waitForSelector('body[data-ready="1"]');
    assert.match((await p.textContent('[data-testid=model-name]'))!, /API key/);
    await p.click('[data-testid=open-settings]');
    await p.fill('[data-testid=setting-api-key]', 'sekret');
    await p.fill('[data-testid=setting-max-tokens]', '8');
    await p.click('[data-testid=save-settings]');
    await p.waitForFunction(() => document.querySelector('[data-testid=model-name]')?.textContent === 'tiny');
    await say(p, 'Hello!');
    assert.equal(await p.locator('[data-testid=error]').count(), 0);
    assert.deepEqual(auth, ['Bearer sekret']);
  } finally {
    await p.close();
  }
});

test('with --speculative mtp, a reply shows how many draft tokens were accepted (and none without it)', async () => {
  assert.equal(await page.locator('[data-testid=speculation]').count(), 0, 'the tiny server does not speculate');
  const nano = await startServer(
    loadServedModel(fileURLToPath(new URL('../../models/deepseek-ts-nano', import.meta.url)), {
      speculative: { method: 'mtp', draftTokens: 2 },
    }),
    { port: 0 },
  );
  const p = await browser.newPage();
  p.on('pageerror', (e) => pageErrors.push(e.message));
  try {
    await p.goto(nano.url);
    await p.waitForSelector('body[data-ready="1"]');
    await setSettings(p, { maxTokens: 24 });
    await say(p, '秋夜');
    const line = (await p.textContent('[data-testid=speculation]'))!;
    const m = /^speculative decoding: (\d+) of (\d+) draft tokens accepted/.exec(line);
    assert.ok(m && Number(m[2]) > 0 && Number(m[1]) <= Number(m[2]), line);
  } finally {
    await p.close();
    await nano.close();
  }
});

test('the page ran without script errors', () => {
  assert.deepEqual(pageErrors, []);
});
