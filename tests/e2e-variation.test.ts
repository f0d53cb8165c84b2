// End to end in a real browser (local mode, the end-to-end model): the Generate view's variation control under the
// seed. A strength over 0 shows the variation seed; the image's parameters carry A1111's keys; dropping that PNG back
// fills the variation fields again, and a PNG made without variation turns it off.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { SCREENSHOTS } from './helpers/browser.ts';
import { dropFile, e2eApp, fillFields, generateOne } from './helpers/e2e-app.ts';

// E2E_STATIC serves another renderer build (e.g. one made before a change, to see a test fail).
const app = e2eApp({ staticDir: process.env.E2E_STATIC });

test('the variation control: a strength shows the variation seed, the PNG carries both and brings them back', async () => {
  const page = await app.open();
  await fillFields(page, { Prompt: 'a red circle on a blue background', Seed: '7', Steps: '4' });
  const variationSeed = page.getByLabel('Variation seed', { exact: true });
  assert.equal(await variationSeed.count(), 0, 'hidden while the strength is 0');
  const plain = await generateOne(app, page);
  assert.doesNotMatch(plain.parameters, /Variation seed/);

  await fillFields(page, { 'Variation strength': '0.3' });
  await variationSeed.waitFor();
  await fillFields(page, { 'Variation seed': '100' });
  await page.screenshot({ path: join(SCREENSHOTS, 'generate-variation.png'), fullPage: true });
  const varied = await generateOne(app, page);
  assert.match(varied.parameters, /Seed: 7, .*Variation seed: 100, Variation seed strength: 0\.3/);
  assert.notDeepEqual(varied.png, plain.png);

  // Back to no variation, then the varied PNG fills the fields again; the plain PNG turns variation off.
  await fillFields(page, { 'Variation strength': '0' });
  await variationSeed.waitFor({ state: 'detached' });
  await dropFile(page, 'varied.png', varied.png);
  await variationSeed.waitFor();
  assert.equal(await page.getByLabel('Variation strength', { exact: true }).inputValue(), '0.3');
  assert.equal(await variationSeed.inputValue(), '100');
  await dropFile(page, 'plain.png', plain.png);
  await variationSeed.waitFor({ state: 'detached' });
  assert.equal(await page.getByLabel('Variation strength', { exact: true }).inputValue(), '0');
  await page.close();
});
