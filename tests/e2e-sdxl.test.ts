// SDXL in the app, end to end in a real browser (local mode on the tiny SDXL fixture): the Generate view
// offers SDXL's size presets (at the model's own scale) and, folded, the original size and crop; what is
// chosen reaches the image's parameters. A screenshot of the view is saved with the others.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { SCREENSHOTS } from './helpers/browser.ts';
import { e2eApp } from './helpers/e2e-app.ts';

const app = e2eApp({ model: join(import.meta.dirname, 'fixtures', 'sdxl', 'onnx') });

test('SDXL models get size presets and an original size / crop section whose values reach the PNG', async () => {
  const page = await app.open();
  await page.getByText('Native size 64×64').waitFor();
  const presets = page.getByRole('group', { name: 'SDXL sizes (about one megapixel)' });
  assert.deepEqual(await presets.getByRole('button').allTextContents(), ['64×64', '96×64', '64×96', '96×32', '32×96']);
  await presets.getByRole('button', { name: '96×64' }).click();
  assert.deepEqual(
    [await page.getByLabel('Width', { exact: true }).inputValue(), await page.getByLabel('Height', { exact: true }).inputValue()],
    ['96', '64'],
  );
  assert.equal(await presets.getByRole('button', { name: '96×64' }).getAttribute('aria-pressed'), 'true');

  await page.getByText('Original size and crop (SDXL)').click();
  await page.getByLabel('Original width').fill('128');
  await page.getByLabel('Crop top').fill('8');
  await page.getByLabel('Prompt', { exact: true }).fill('a red circle on a blue background');
  await page.getByLabel('Steps').fill('2');
  await page.screenshot({ path: join(SCREENSHOTS, 'generate-sdxl.png'), fullPage: true });
  await page.getByRole('button', { name: 'Generate', exact: true }).click();
  await page.getByAltText('Generated image 1').waitFor();
  const [entry] = await app.studio.service.call({ method: 'gallery.list', params: {} });
  assert.match(entry.parameters, /Size: 96x64, .*Original size: 128x64, Crop top: 8/);
  await page.close();
});
