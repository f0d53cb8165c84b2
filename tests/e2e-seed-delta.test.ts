// End to end in a real browser (local mode, the end-to-end model): "Eta noise seed delta (ENSD)" folded under the seed.
// With Euler a (an ancestral sampler, whose later noise it moves), 31337 makes the image's PNG carry A1111's
// "ENSD: 31337" and changes the image; it is kept across a reload like A1111's setting; dropping that PNG back fills the
// field and unfolds it, and a PNG made without it sets it back to 0 (off).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { SCREENSHOTS } from './helpers/browser.ts';
import { dropFile, e2eApp, fillFields, generateOne } from './helpers/e2e-app.ts';

// E2E_STATIC serves another renderer build (e.g. one made before a change, to see a test fail).
const app = e2eApp({ staticDir: process.env.E2E_STATIC });

test('ENSD: the PNG carries it, the image changes, a reload keeps it and a dropped PNG brings it back or turns it off', async () => {
  const page = await app.open();
  await fillFields(page, { Prompt: 'a red circle on a blue background', Sampler: 'Euler a', Seed: '7', Steps: '4' });
  const delta = page.getByLabel('Eta noise seed delta', { exact: true });
  const fieldValue = () => page.evaluate(() => (document.getElementById('eta-noise-seed-delta') as HTMLInputElement | null)?.value);
  assert.equal(await delta.isVisible(), false, 'folded while off');
  const plain = await generateOne(app, page);
  assert.match(plain.parameters, /Sampler: Euler a, .*Seed: 7/);
  assert.doesNotMatch(plain.parameters, /ENSD/);

  await page.getByText('Eta noise seed delta (ENSD)', { exact: true }).click();
  await fillFields(page, { 'Eta noise seed delta': '31337' });
  await page.getByText('Eta noise seed delta (ENSD): 31337', { exact: true }).waitFor();
  await page.screenshot({ path: join(SCREENSHOTS, 'generate-seed-delta.png'), fullPage: true });
  const delayed = await generateOne(app, page);
  assert.match(delayed.parameters, /Sampler: Euler a, .*Seed: 7, .*ENSD: 31337/);
  assert.notDeepEqual(delayed.png, plain.png);

  await page.reload();
  await delta.waitFor({ state: 'visible' });
  assert.equal(await delta.inputValue(), '31337', 'kept across a reload, unfolded');
  await fillFields(page, { 'Eta noise seed delta': '0' });
  await page.reload();
  await page.getByText('Eta noise seed delta (ENSD)', { exact: true }).waitFor();
  assert.equal(await fieldValue(), '0');
  assert.equal(await delta.isVisible(), false, 'folded again after a reload at 0');

  await dropFile(page, 'ensd.png', delayed.png);
  await delta.waitFor({ state: 'visible' });
  assert.equal(await delta.inputValue(), '31337');
  await dropFile(page, 'plain.png', plain.png);
  await page.waitForFunction(() => (document.getElementById('eta-noise-seed-delta') as HTMLInputElement | null)?.value === '0');
  await page.close();
});
