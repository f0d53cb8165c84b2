// End to end in a real browser (local mode, the end-to-end model): "Resize seed from" folded under the seed. Its width
// and height make the image's PNG carry A1111's "Seed resize from: WxH" and change the image; dropping that PNG back
// fills both fields and unfolds them, and a PNG made without it sets them back to 0 (off).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { SCREENSHOTS } from './helpers/browser.ts';
import { dropFile, e2eApp, fillFields, generateOne } from './helpers/e2e-app.ts';

// E2E_STATIC serves another renderer build (e.g. one made before a change, to see a test fail).
const app = e2eApp({ staticDir: process.env.E2E_STATIC });

test('Resize seed from: the PNG carries it, the image changes, and a dropped PNG brings it back or turns it off', async () => {
  const page = await app.open();
  await fillFields(page, { Prompt: 'a red circle on a blue background', Seed: '7', Steps: '4' });
  const width = page.getByLabel('Resize seed from width', { exact: true }),
    height = page.getByLabel('Resize seed from height', { exact: true });
  assert.equal(await width.isVisible(), false, 'folded while off');
  const plain = await generateOne(app, page);
  assert.doesNotMatch(plain.parameters, /Seed resize from/);

  await page.getByText('Resize seed from', { exact: true }).click();
  await fillFields(page, { 'Resize seed from width': '32', 'Resize seed from height': '48' });
  await page.screenshot({ path: join(SCREENSHOTS, 'generate-seed-resize.png'), fullPage: true });
  const resized = await generateOne(app, page);
  assert.match(resized.parameters, /Seed: 7, .*Seed resize from: 32x48/);
  assert.notDeepEqual(resized.png, plain.png);

  await fillFields(page, { 'Resize seed from width': '0', 'Resize seed from height': '0' });
  await page.reload();
  await dropFile(page, 'resized.png', resized.png);
  await width.waitFor({ state: 'visible' });
  assert.equal(await width.inputValue(), '32');
  assert.equal(await height.inputValue(), '48');
  await dropFile(page, 'plain.png', plain.png);
  await page.waitForFunction(() => (document.getElementById('seed-resize-width') as HTMLInputElement | null)?.value === '0');
  assert.equal(await height.inputValue(), '0');
  await page.close();
});
