// The web chat of a server with two models, in a real browser (Debian's headless Chromium driven by
// playwright-core): the model picker, each conversation keeping its model, and the R1 model's
// thinking set apart from its answer while the base model's answer has none.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { openChatPage } from './chat-page.ts';
import type { RunningServer } from '../../src/serve/index.ts';
import { endless, startTinyServer } from './tiny-server.ts';

declare const document: any;

let server: RunningServer;
let browser: Browser;
let page: Page;
let sent: any[];
let pageErrors: string[];

before(async () => {
  server = await startTinyServer({
    models: [
      { template: 'v3', name: 'poet' },
      { template: 'r1', name: 'reasoner' },
    ],
    thinkingBudget: 6, // the random R1 model closes its thinking after 6 tokens, so an answer follows
  });
  endless(server, true); // answers run to their limit (see web-chat.test.ts)
  ({ browser, page, sent, pageErrors } = await openChatPage(server.url, { maxTokens: 16 }));
});

after(async () => {
  await browser?.close();
});

/** Sends a message and waits until the reply has ended. */
async function say(text: string): Promise<void> {
  const before = await page.locator('[data-testid=message-assistant]').count();
  await page.fill('[data-testid=input]', text);
  await page.press('[data-testid=input]', 'Enter');
  await page.waitForFunction((n: number) => document.querySelectorAll('[data-testid=message-assistant]').length > n, before);
  await page.waitForSelector('[data-testid=send]:not([hidden])');
}

const picked = () => page.inputValue('[data-testid=model-picker]');
const open = (title: string) => page.locator('[data-testid=conversation] .open', { hasText: title }).click();

test('the picker lists every served model, the default first and chosen', async () => {
  assert.equal(await page.isVisible('[data-testid=model-picker]'), true);
  assert.deepEqual(await page.locator('[data-testid=model-picker] option').allTextContents(), ['poet', 'reasoner']);
  assert.equal(await picked(), 'poet');
});

test("the chosen model answers: the base model's answer has no thinking, the R1 model's thinking streams apart", async () => {
  await say('Write a poem');
  assert.equal(sent.at(-1).model, 'poet');
  assert.equal(await page.locator('[data-testid=thinking]').count(), 0);

  await page.click('[data-testid=new-chat]');
  await page.selectOption('[data-testid=model-picker]', 'reasoner');
  await say('Reason it out');
  assert.equal(sent.at(-1).model, 'reasoner');
  const thinking = page.locator('[data-testid=message-assistant] [data-testid=thinking]');
  assert.equal(await thinking.count(), 1);
  assert.ok(((await thinking.locator('.thinking-body').textContent()) ?? '').length > 0, 'the thinking has text');
  assert.ok(((await page.textContent('[data-testid=message-assistant] [data-testid=answer]')) ?? '').length > 0, 'so has the answer');
});

test('each conversation keeps its model, across reloads; a new chat starts with the last one picked', async () => {
  await open('Write a poem');
  assert.equal(await picked(), 'poet');
  await say('Another');
  assert.equal(sent.at(-1).model, 'poet');
  assert.equal(sent.at(-1).messages.length, 3, 'the same conversation went on');

  await page.reload();
  await page.waitForSelector('body[data-ready="1"]');
  assert.equal(await picked(), 'poet', 'the open conversation is the poet one');
  await open('Reason it out');
  assert.equal(await picked(), 'reasoner');
  await page.click('[data-testid=new-chat]');
  assert.equal(await picked(), 'reasoner');
});

test('the page ran without script errors', () => {
  assert.deepEqual(pageErrors, []);
});
