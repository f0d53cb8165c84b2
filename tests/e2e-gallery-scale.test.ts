// The Gallery of a large data folder in a real browser (local mode, the embedded model): 20,000 images.
// Only the thumbnails near the window are in the page (all 20,000 buttons took 3.4 s to show, 100,000 nodes,
// 50 MB of heap, 0.9 s a click and 2-3 s a deletion), and the rest are still reached by scrolling, by the
// keyboard (End, Home, arrows) and by the filter. Prints the times it measures; asserts only what the user sees.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encode } from 'fast-png';
import type { Page } from 'playwright-core';
import { addTextChunks } from '../src-core/png/text-chunks.ts';
import { e2eApp } from './helpers/e2e-app.ts';

const COUNT = 20_000;
const SAMPLERS = ['Euler', 'Euler a', 'DPM++ 2M', 'Restart'];
const seedOf = (n: number) => n * 7;

/** A data folder whose gallery has COUNT images (one small PNG's bytes under every name; the index has each one's own parameters). */
function bigGallery(): string {
  const dataDir = mkdtempSync(join(tmpdir(), 'e2e-gallery-scale-'));
  const images = join(dataDir, 'gallery', 'images');
  mkdirSync(images, { recursive: true });
  const parameters = (n: number) =>
    `shape ${n}\nSteps: 4, Sampler: ${SAMPLERS[n % 4]}, CFG scale: 7, Seed: ${seedOf(n)}, Size: 64x64, NFE: 4`;
  const png = addTextChunks(Buffer.from(encode({ width: 64, height: 64, data: new Uint8Array(64 * 64 * 3).fill(90), channels: 3 })), {
    parameters: parameters(1),
  });
  const start = Date.parse('2026-01-01T00:00:00Z');
  const entries = [];
  for (let n = 1; n <= COUNT; n++) {
    const id = `${String(n).padStart(5, '0')}-${seedOf(n)}.png`;
    writeFileSync(join(images, id), png);
    const createdAt = new Date(start + n * 1000).toISOString();
    entries.push({
      id,
      createdAt,
      seed: seedOf(n),
      width: 64,
      height: 64,
      parameters: parameters(n),
      evaluations: 4,
      seconds: 0.5,
      source: 'generate',
    });
  }
  writeFileSync(join(dataDir, 'gallery', 'index.json'), JSON.stringify({ version: 1, entries }));
  return dataDir;
}

// E2E_STATIC serves another renderer build (e.g. one made before a change, to see a test fail).
const app = e2eApp({ staticDir: process.env.E2E_STATIC, dataDir: bigGallery() });

const status = (page: Page) => page.getByRole('search', { name: 'Filter the gallery' }).getByRole('status');
const thumbs = (page: Page) => page.getByRole('group', { name: 'Gallery thumbnails' }).getByRole('button');
const focusedName = (page: Page) => page.evaluate(() => document.activeElement?.getAttribute('aria-label') ?? null);

/** Runs `action` in the page and returns the milliseconds until the next frame after it (after the status reads `until`). */
async function timed(page: Page, action: string, until?: string): Promise<number> {
  return page.evaluate(
    async ({ code, until }) => {
      const t0 = performance.now();
      new Function(code)();
      do await new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));
      while (until && document.querySelector('[role="search"] [role="status"]')?.textContent !== until);
      return performance.now() - t0;
    },
    { code: action, until },
  );
}

const named = (seed: number) => new RegExp(`^seed ${seed}, \\d\\d:\\d\\d, `);

test(`a gallery of ${COUNT} images: a few hundred thumbnails in the page, each image reached by scrolling and keys`, async () => {
  const page = await app.browser.newPage({ viewport: { width: 1280, height: 800 } });
  page.setDefaultTimeout(60_000);
  await page.goto(app.studio.server.url);
  await page
    .locator('#tab-gallery')
    .filter({ hasText: String(COUNT) })
    .waitFor();
  const shown = await timed(page, `document.getElementById('tab-gallery').click()`);
  await status(page)
    .filter({ hasText: `${COUNT} images` })
    .waitFor();
  const inPage = await thumbs(page).count();
  const nodes = await page.evaluate(() => document.getElementsByTagName('*').length);
  console.log(`gallery of ${COUNT}: shown in ${shown.toFixed(0)} ms, ${inPage} thumbnails and ${nodes} elements in the page`);
  assert.ok(inPage > 0 && inPage < 1000, `${inPage} thumbnails in the page`);
  assert.match((await thumbs(page).first().getAttribute('aria-label')) ?? '', named(seedOf(COUNT)));

  // Scrolled to the end, the oldest image is there, in the window.
  await page.evaluate(() => window.scrollTo(0, document.documentElement.scrollHeight));
  await thumbs(page)
    .filter({ has: page.locator(`[src$="00001-7.png"]`) })
    .waitFor();
  const oldest = page.getByRole('button', { name: named(seedOf(1)) });
  assert.ok(await oldest.isVisible(), 'the oldest thumbnail is in the window');
  assert.ok((await thumbs(page).count()) < 1000);

  // The keyboard: Home, End and the arrows move through all of them, the page following.
  await page.evaluate(() => window.scrollTo(0, 0));
  await thumbs(page).first().focus();
  await page.keyboard.press('End');
  assert.match((await focusedName(page)) ?? '', named(seedOf(1)));
  await page.keyboard.press('ArrowLeft');
  assert.match((await focusedName(page)) ?? '', named(seedOf(2)));
  await page.keyboard.press('Home');
  assert.match((await focusedName(page)) ?? '', named(seedOf(COUNT)));
  for (let k = 0; k < 30; k++) await page.keyboard.press('ArrowDown');
  const down = await page.evaluate(() => {
    const box = document.activeElement?.getBoundingClientRect();
    return { name: document.activeElement?.getAttribute('aria-label') ?? '', inView: !!box && box.top >= 0 && box.bottom <= innerHeight };
  });
  assert.ok(down.inView, `${down.name}: the focused thumbnail is in the window`);
  const columns = await page.evaluate(() => {
    const grid = document.querySelector('[aria-label="Gallery thumbnails"]') as HTMLElement;
    return getComputedStyle(grid).gridTemplateColumns.split(' ').length;
  });
  assert.match(down.name, named(seedOf(COUNT - 30 * columns)));

  // Select it with Enter, then delete three images in a row.
  await page.keyboard.press('Enter');
  const detail = page.getByRole('complementary', { name: 'Selected image' });
  await detail
    .getByLabel('Parameters')
    .filter({ hasText: `shape ${COUNT - 30 * columns}\n` })
    .waitFor();
  for (let k = 1; k <= 3; k++) {
    await thumbs(page).first().click();
    await detail.getByRole('button', { name: 'Delete', exact: true }).click();
    const yes = `[...document.querySelectorAll('button')].find((b) => b.textContent === 'Yes, delete').click()`;
    const ms = await timed(page, yes, `${COUNT - k} images`);
    console.log(`deletion ${k}: ${ms.toFixed(0)} ms from "Yes, delete" to the count shown`);
  }
  assert.equal(app.studio.service.gallery.list().length, COUNT - 3);

  // The filter finds one image among all of them.
  await page.getByLabel('Prompt', { exact: true }).fill('shape 12345');
  await status(page)
    .filter({ hasText: `1 of ${COUNT - 3} images` })
    .waitFor();
  assert.equal(await thumbs(page).count(), 1);
  assert.match((await thumbs(page).first().getAttribute('aria-label')) ?? '', named(seedOf(12345)));
  await page.close();
});
