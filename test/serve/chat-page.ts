// The web chat opened in a real browser (Debian's headless Chromium driven by playwright-core), as
// the browser tests share it.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { PATIENCE_MS } from '../helpers/patience.ts';

const CHROMIUM = '/usr/bin/chromium';

export interface ChatPage {
  browser: Browser;
  page: Page;
  /** Bodies of the chat requests the page sent. */
  sent: any[];
  /** Uncaught errors in the page's scripts. */
  pageErrors: string[];
}

/** Opens the web chat at `url` once it is ready; `maxTokens` is saved in its settings when given. */
export async function openChatPage(url: string, options: { maxTokens?: number } = {}): Promise<ChatPage> {
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: install it with 'apt-get install -y chromium'`);
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu'] });
  const page = await browser.newPage();
  page.setDefaultTimeout(PATIENCE_MS); // waits for the page are hang guards, not speed checks
  const sent: any[] = [];
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.on('request', (r) => {
    if (r.url().endsWith('/v1/chat/completions')) sent.push(r.postDataJSON());
  });
  await page.goto(url);
  await page.waitForSelector('body[data-ready="1"]');
  if (options.maxTokens !== undefined) {
    await page.click('[data-testid=open-settings]');
    await page.fill('[data-testid=setting-max-tokens]', String(options.maxTokens));
    await page.click('[data-testid=save-settings]');
  }
  return { browser, page, sent, pageErrors };
}
