// img2img and hires fix in a real browser (issue 23): "Send to img2img" from a result and from the gallery,
// the denoising strength with the number of steps that will run, an img2img run with its before/after
// view, a dropped JPEG as the source, and a hires-fix run that makes the larger image.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { SCREENSHOTS } from './helpers/browser.ts';
import { e2eApp, fillFields } from './helpers/e2e-app.ts';

const app = e2eApp();
const JPEG = readFileSync(join(import.meta.dirname, 'fixtures', 'img2img', 'inputs', 'photo.jpg'));

async function generateAndWait(page: Page, parameters: RegExp): Promise<void> {
  await page.getByRole('button', { name: 'Generate', exact: true }).click();
  await page.waitForFunction(
    (source) => new RegExp(source).test(document.querySelector('[aria-label="Parameters"]')?.textContent ?? ''),
    parameters.source,
    { timeout: 60_000 },
  );
}

/** Drops a file on the img2img slot (its own drop zone, not the window's parameter loader). */
async function dropOnSource(page: Page, name: string, type: string, bytes: Uint8Array): Promise<void> {
  await page.getByRole('region', { name: 'Drop an image for img2img' }).evaluate(
    (zone, { name, type, b64 }) => {
      const data = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
      const transfer = new DataTransfer();
      transfer.items.add(new File([data], name, { type }));
      for (const kind of ['dragenter', 'dragover', 'drop'])
        zone.dispatchEvent(new DragEvent(kind, { dataTransfer: transfer, bubbles: true, cancelable: true }));
    },
    { name, type, b64: Buffer.from(bytes).toString('base64') },
  );
}

test('send to img2img from a result and from the gallery; strength states the steps; before/after; a dropped JPEG', async () => {
  const page = await app.open();
  await fillFields(page, { Prompt: 'a red circle on a blue background', Seed: '5', Steps: '6' });
  await generateAndWait(page, /Seed: 5/);
  await page.getByRole('button', { name: 'Send to img2img', exact: true }).click();
  const slot = page.getByRole('group', { name: 'img2img source image' });
  await slot.getByRole('img', { name: /^img2img source seed 5/ }).waitFor();
  await page.getByLabel('Denoising strength value').fill('0.5');
  await page.locator('#strength-steps').filter({ hasText: '4 of 6 steps run: int(steps × strength) + 1, as A1111' }).waitFor();
  await page.getByLabel('Run all steps').check();
  await page.locator('#strength-steps').filter({ hasText: '6 steps run, the last 6 of a 12-step schedule' }).waitFor();
  await page.getByLabel('Run all steps').uncheck();
  assert.equal(await page.getByRole('checkbox', { name: 'Hires fix' }).isDisabled(), true, 'hires fix is for text to image');

  await fillFields(page, { Seed: '6' });
  await generateAndWait(page, /Seed: 6.*Denoising strength: 0\.5/s);
  const view = page.getByRole('region', { name: 'Before and after' });
  await view.getByRole('img', { name: 'Before: the img2img source' }).waitFor();
  await view.getByRole('img', { name: 'After: the generated image' }).waitFor();
  await view.getByRole('button', { name: 'Overlay' }).click();
  await view.getByLabel(/Divider between before/).waitFor();
  const img2img = app.studio.service.gallery.list().find((e) => e.seed === 6);
  assert.ok(img2img && /Denoising strength: 0\.5/.test(img2img.parameters) && img2img.evaluations === 4);
  await page.screenshot({ path: join(SCREENSHOTS, 'img2img.png'), fullPage: true });

  // From the gallery: the seed-5 image becomes the source, and the view goes back to Generate.
  await page.getByRole('tab', { name: 'Gallery' }).click();
  await page
    .getByRole('group', { name: 'Gallery thumbnails' })
    .getByRole('button', { name: /^seed 5, / })
    .first()
    .click();
  await page.getByRole('button', { name: 'Send to img2img', exact: true }).click();
  await slot.getByRole('img', { name: /^img2img source seed 5/ }).waitFor();
  assert.equal(await page.getByLabel('Prompt', { exact: true }).isVisible(), true);

  // A JPEG dropped on the slot is uploaded and becomes the source; Remove clears it.
  await dropOnSource(page, 'photo.jpg', 'image/jpeg', JPEG);
  await slot.getByRole('img', { name: 'img2img source photo.jpg' }).waitFor();
  await slot.getByText('48×32').waitFor();
  await slot.getByRole('button', { name: 'Remove' }).click();
  await slot.getByText(/Drop or paste an image here/).waitFor();
  // A file that is not an image is refused in words.
  await dropOnSource(page, 'notes.png', 'image/png', new TextEncoder().encode('not really a png'));
  await page
    .getByRole('alert')
    .filter({ hasText: /Could not use that image for img2img: .*not an image/ })
    .waitFor();
  await page.close();
});

test("a hires-fix run makes the larger image, with A1111's Hires parameters", async () => {
  const page = await app.open();
  await fillFields(page, { Prompt: 'two green triangles', Seed: '8', Steps: '5', Width: '64', Height: '64' });
  await page.getByRole('checkbox', { name: 'Hires fix' }).check();
  await fillFields(page, { 'Upscale by': '2', 'Hires steps': '3', Upscaler: 'Lanczos' });
  await page.locator('#hires-target').filter({ hasText: '64×64 → 128×128; the second pass runs exactly 3 steps' }).waitFor();
  await generateAndWait(page, /Seed: 8.*Hires upscale: 2, Hires steps: 3, Hires upscaler: Lanczos/s);
  const image = page.getByAltText('Generated image 1');
  assert.equal(await image.getAttribute('width'), '128');
  const entry = app.studio.service.gallery.list().find((e) => e.seed === 8);
  assert.deepEqual([entry?.width, entry?.height, entry?.evaluations], [128, 128, 8]);
  await page.screenshot({ path: join(SCREENSHOTS, 'hires-fix.png'), fullPage: true });
  await page.close();
});
