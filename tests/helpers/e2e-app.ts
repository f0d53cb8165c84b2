// What the end-to-end test files share: the browser and the app (local mode on the end-to-end model),
// started before a file's first test and closed after its last, and page actions (drop a file,
// download an export). Type-checked with the DOM (tests/tsconfig.browser.json), not with Node's.
import { readFileSync } from 'node:fs';
import { after, before } from 'node:test';
import type { Browser, Download, Page } from 'playwright-core';
import { E2E_MODEL, launchBrowser, openApp } from './browser.ts';
import { startStudio, type Studio, type StudioOptions } from './studio.ts';

export interface E2eApp {
  browser: Browser;
  /** A test may stop it and put another in its place (a restart). */
  studio: Studio;
  /** A new page on the app, ready once the engine has told it which model is loaded. */
  open(): Promise<Page>;
}

/** Call at the top of a test file; `page` options apply to every page `open()` makes. */
export function e2eApp(options: Partial<StudioOptions> = {}, page: { acceptDownloads?: boolean } = {}): E2eApp {
  const app = { open: () => openApp(app.browser, app.studio.server.url, page) } as E2eApp;
  before(async () => {
    app.browser = await launchBrowser();
    app.studio = await startStudio({ model: E2E_MODEL, ...options });
  });
  after(async () => {
    await app.browser?.close();
    await app.studio?.stop();
  });
  return app;
}

/** The bytes of the image shown with this alt text, as the app serves it. */
export async function imageBytes(app: E2eApp, page: Page, alt: string): Promise<Buffer> {
  const src = await page.getByAltText(alt).getAttribute('src');
  const res = await fetch(new URL(src!, app.studio.server.url));
  return Buffer.from(await res.arrayBuffer());
}

/** Generates one image and waits for it to replace the one shown before (each run's images are numbered from 1). */
export async function generateOne(app: E2eApp, page: Page): Promise<{ parameters: string; png: Buffer }> {
  const image = page.getByAltText('Generated image 1');
  const before = (await image.count()) ? await image.getAttribute('src') : null;
  await page.getByRole('button', { name: 'Generate', exact: true }).click();
  await page.waitForFunction((src) => {
    const now = document.querySelector('img[alt="Generated image 1"]')?.getAttribute('src');
    return !!now && now !== src;
  }, before);
  const parameters = (await page.getByLabel('Parameters').first().textContent()) ?? '';
  return { parameters, png: await imageBytes(app, page, 'Generated image 1') };
}

/** Drops a file on the page as a user dragging it in from the desktop would (dragenter, dragover, drop). */
export async function dropFile(page: Page, name: string, bytes: Uint8Array): Promise<void> {
  await page.evaluate(
    async ({ name, b64 }) => {
      const data = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
      const transfer = new DataTransfer();
      transfer.items.add(new File([data], name, { type: 'image/png' }));
      for (const type of ['dragenter', 'dragover', 'drop']) {
        document.body.dispatchEvent(new DragEvent(type, { dataTransfer: transfer, bubbles: true, cancelable: true }));
      }
    },
    { name, b64: Buffer.from(bytes).toString('base64') },
  );
}

/** Clicks an export button (the page must accept downloads) and returns the downloaded file's name and bytes. */
export async function download(page: Page, button: string): Promise<{ name: string; bytes: Buffer }> {
  const started: Promise<Download> = page.waitForEvent('download');
  await page.getByRole('button', { name: button, exact: true }).click();
  const file = await started;
  return { name: file.suggestedFilename(), bytes: readFileSync(await file.path()) };
}

/** The samplers as the UI names them, in its order. */
export const SAMPLER_LABELS = ['Euler', 'Euler a', 'Heun', 'DPM++ 2M', 'DDIM', 'Restart'] as const;

/** Fills labelled fields (exact label) in order: text and numbers as typed, a select by its option's label. */
export async function fillFields(page: Page, fields: Record<string, string>): Promise<void> {
  for (const [label, value] of Object.entries(fields)) {
    const field = page.getByLabel(label, { exact: true });
    if ((await field.evaluate((el) => el.tagName)) === 'SELECT') await field.selectOption({ label: value });
    else await field.fill(value);
  }
}

/** Ticks exactly these samplers (the UI's labels) in the group of sampler checkboxes with this name. */
export async function tickSamplers(page: Page, group: string, samplers: ReadonlyArray<(typeof SAMPLER_LABELS)[number]>): Promise<void> {
  const boxes = page.getByRole('group', { name: group });
  for (const label of SAMPLER_LABELS) await boxes.getByRole('checkbox', { name: label, exact: true }).setChecked(samplers.includes(label));
}

/** In the Compare view: the X axis varies the sampler over exactly these. */
export async function samplerAxis(page: Page, samplers: ReadonlyArray<(typeof SAMPLER_LABELS)[number]>): Promise<void> {
  await page.getByLabel('X axis').selectOption('sampler');
  await tickSamplers(page, 'X values', samplers);
}

/**
 * Records every text the page shows from now on (any change to the page's nodes or attributes), so a state that
 * lasts a few milliseconds ("Cancelling…", an import's progress) can still be checked; the function returns them all.
 */
export async function recordTexts(page: Page): Promise<() => Promise<string>> {
  await page.evaluate(() => {
    const w = window as unknown as { __seen: string[] };
    w.__seen = [document.body.innerText];
    new MutationObserver(() => w.__seen.push(document.body.innerText)).observe(document.body, {
      subtree: true,
      childList: true,
      characterData: true,
      attributes: true,
    });
  });
  return () => page.evaluate(() => (window as unknown as { __seen: string[] }).__seen.join('\n'));
}
