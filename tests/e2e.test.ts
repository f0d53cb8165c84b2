// End to end in a real browser against the local mode: type a prompt, generate with the embedded
// model, watch progress, see the image and its parameters, cancel a run, reuse a seed and get the
// identical image, restart the server and find the gallery intact, drop an A1111 PNG and see the
// form filled, and check the page sees nothing of Node.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { E2E_MODEL, SCREENSHOTS } from './helpers/browser.ts';
import { dropFile, e2eApp, fillFields, imageBytes } from './helpers/e2e-app.ts';
import { startStudio, TestClient, wsUrl } from './helpers/studio.ts';

const shot = (page: Page, name: string) => page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
const app = e2eApp();

const openApp = () => app.open();

test('generate: prompt, progress, image and parameters; the page has no Node', async () => {
  const page = await openApp();
  assert.equal(await page.evaluate(() => typeof (globalThis as { require?: unknown }).require), 'undefined');
  assert.equal(await page.evaluate(() => typeof (globalThis as { process?: unknown }).process), 'undefined');
  // The CSP is in force: an injected inline script does not run.
  assert.equal(
    await page.evaluate(() => {
      const script = document.createElement('script');
      script.textContent = 'window.__inline = 1';
      document.head.append(script);
      return (window as { __inline?: number }).__inline === 1;
    }),
    false,
  );
  await fillFields(page, { Prompt: 'a red circle on a blue background', Seed: '7', Steps: '12' });
  await page.getByRole('button', { name: 'Generate', exact: true }).click();
  await page.getByRole('progressbar').waitFor();
  await page.getByAltText('Generated image 1').waitFor();
  const parameters = await page.getByLabel('Parameters').first().textContent();
  assert.match(parameters ?? '', /a red circle on a blue background/);
  assert.match(parameters ?? '', /Seed: 7/);
  assert.match(parameters ?? '', /Steps: 12/);
  assert.match(parameters ?? '', /Size: 64x64/, "the model's native size");
  await shot(page, 'generate');
  await page.close();
});

test('cancel a long run with Esc; the next run works', async () => {
  const page = await openApp();
  await fillFields(page, { Prompt: 'two green triangles on white', Steps: '500', Sampler: 'Heun' });
  await page.getByRole('button', { name: 'Generate', exact: true }).click();
  await page.getByRole('progressbar').waitFor();
  await page.keyboard.press('Escape');
  await page.getByRole('status').filter({ hasText: 'Cancelled.' }).waitFor();
  assert.equal(await page.getByAltText('Generated image 1').count(), 0, 'the cancelled run made no image');
  await page.getByLabel('Steps').fill('4');
  await page.getByRole('button', { name: 'Generate', exact: true }).click();
  await page.getByAltText('Generated image 1').waitFor();
  await page.close();
});

test('reuse the last seed and get the identical image', async () => {
  const page = await openApp();
  await fillFields(page, { Prompt: 'a yellow square on a black background', Steps: '8' });
  await page.getByRole('button', { name: 'Random seed' }).click();
  await page.getByRole('button', { name: 'Generate', exact: true }).click();
  await page.getByAltText('Generated image 1').waitFor();
  const first = await imageBytes(app, page, 'Generated image 1');
  const firstSrc = await page.getByAltText('Generated image 1').getAttribute('src');
  await page.getByRole('button', { name: 'Reuse last seed' }).click();
  await page.getByRole('button', { name: 'Generate', exact: true }).click();
  await page.waitForFunction((src) => document.querySelector('img[alt="Generated image 1"]')?.getAttribute('src') !== src, firstSrc);
  const second = await imageBytes(app, page, 'Generated image 1');
  assert.ok(first.length > 100);
  assert.deepEqual(second, first);
  await page.close();
});

test('restart the server: the gallery is intact', async () => {
  // Its own three images (seeds 31, 32, 33), so the test does not lean on what earlier tests made.
  const client = await TestClient.connect(wsUrl(app.studio.server));
  const done = client.waitFor('job.done');
  await client.call('job.generate', { prompt: 'a blue square', seed: 31, steps: 2, count: 3 });
  await done;
  client.close();
  const before = app.studio.service.gallery.list().map((e) => e.id);
  assert.ok(before.length >= 3);
  const dataDir = app.studio.dataDir;
  await app.studio.stop();
  app.studio = await startStudio({ model: E2E_MODEL, dataDir });
  const page = await openApp();
  await page.getByRole('tab', { name: 'Gallery' }).click();
  const thumbs = page.getByRole('group', { name: 'Gallery thumbnails' });
  for (const entry of app.studio.service.gallery.list().slice(0, 3)) {
    await thumbs
      .getByRole('button', { name: new RegExp(`^seed ${entry.seed}, `) })
      .first()
      .waitFor();
  }
  assert.deepEqual(
    app.studio.service.gallery.list().map((e) => e.id),
    before,
  );
  await thumbs
    .getByRole('button', { name: new RegExp(`^seed ${app.studio.service.gallery.list()[0].seed}, `) })
    .first()
    .click();
  await shot(page, 'gallery');
  await page.close();
});

test('drop a PNG from AUTOMATIC1111: the form is filled from its parameters', async () => {
  const page = await openApp();
  await dropFile(page, 'from-a1111.png', readFileSync(new URL('./fixtures/png/a1111-old-karras-ztxt.png', import.meta.url)));
  await page.waitForFunction(() => (document.querySelector('textarea') as HTMLTextAreaElement | null)?.value.startsWith('a red circle'));
  assert.equal(await page.getByLabel('Prompt', { exact: true }).inputValue(), 'a red circle\non a blue background');
  assert.equal(await page.getByLabel('Negative prompt').inputValue(), 'ugly\nextra line of negative');
  assert.equal(await page.getByLabel('Steps').inputValue(), '36');
  assert.equal(await page.getByLabel('CFG scale').inputValue(), '3');
  assert.equal(await page.getByLabel('Seed', { exact: true }).inputValue(), '7');
  assert.equal(await page.getByLabel('Schedule', { exact: true }).inputValue(), 'karras');
  await shot(page, 'png-dropped');
  await page.close();
});
