// Debian's Chromium driven by playwright-core (browsers cannot be downloaded here).
import { existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { DEFAULT_MODEL_DIR } from '../../src-core/model/default-model.ts';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM))
    throw new Error(`no Chromium at ${CHROMIUM}: install Debian's chromium package (.ci/run does) or set CHROMIUM_PATH`);
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** The model the end-to-end tests drive: the embedded one unless E2E_MODEL names another. */
export const E2E_MODEL = process.env.E2E_MODEL ?? DEFAULT_MODEL_DIR;

/** Where end-to-end runs save screenshots of the main views, to look at after a run. */
export const SCREENSHOTS = process.env.E2E_SCREENSHOTS ?? join(tmpdir(), 'restart-studio-e2e');
mkdirSync(SCREENSHOTS, { recursive: true });

/** A new page on the app, ready once the engine has told it which model (and so which size) is loaded. */
export async function openApp(browser: Browser, url: string, options: { acceptDownloads?: boolean } = {}): Promise<Page> {
  const page = await browser.newPage(options);
  page.setDefaultTimeout(60_000);
  await page.goto(url);
  await page.locator('button.primary:not([disabled])', { hasText: 'Generate' }).waitFor();
  return page;
}
