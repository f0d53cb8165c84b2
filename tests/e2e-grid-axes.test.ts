// End to end in a real browser (local mode, the end-to-end model): the Compare view's A1111 axes. The axis picker
// lists Clip skip, Var. seed and Var. strength; a Var. seed axis at the form's strength 0 says why it cannot run; a
// Var. strength grid runs at the form's strength 0 (its variation seed comes from the form, as A1111's subseed) with
// A1111's legend labels, and its two cells differ.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { e2eApp, fillFields } from './helpers/e2e-app.ts';

// E2E_STATIC serves another renderer build (e.g. one made before a change, to see a test fail).
const app = e2eApp({ staticDir: process.env.E2E_STATIC });

async function cellBytes(page: Page, alt: string): Promise<Buffer> {
  const src = await page.getByAltText(alt, { exact: true }).getAttribute('src');
  return Buffer.from(await (await fetch(new URL(src!, app.studio.server.url))).arrayBuffer());
}

test('compare: the Clip skip, Var. seed and Var. strength axes', async () => {
  const page = await app.open();
  await fillFields(page, { Prompt: 'a red circle on a blue background', Seed: '7', Steps: '4' });
  await page.getByRole('tab', { name: 'Compare' }).click();
  const options = await page.getByLabel('X axis').locator('option').allTextContents();
  for (const label of ['Clip skip', 'Var. seed', 'Var. strength']) assert.ok(options.includes(label), `${label} in ${options.join(', ')}`);

  await page.getByLabel('X axis').selectOption('clipSkip');
  await page.getByLabel('X values').fill('1, 13');
  await page.getByText('13 is above the maximum of 12').waitFor();

  await page.getByLabel('X axis').selectOption('variationSeed');
  await page.getByLabel('X values').fill('100, 101');
  await page.getByText(/a variation-seed axis changes nothing at variation strength 0/).waitFor();
  assert.ok(await page.getByRole('button', { name: 'Run grid' }).isDisabled(), 'a Var. seed axis without a strength cannot run');

  await page.getByLabel('X axis').selectOption('variationStrength');
  await page.getByLabel('X values').fill('0, 0.5');
  await page.getByText('Var. strength: 0 | Var. strength: 0.5').waitFor();
  await page.getByRole('button', { name: 'Run grid' }).click();
  await page.getByRole('button', { name: 'Export CSV' }).waitFor({ timeout: 180_000 });
  const grid = page.getByRole('table', { name: 'Comparison grid' });
  assert.deepEqual(await grid.getByRole('columnheader').allTextContents(), ['Var. strength: 0', 'Var. strength: 0.5']);
  const [none, half] = [await cellBytes(page, 'Cell Var. strength: 0'), await cellBytes(page, 'Cell Var. strength: 0.5')];
  assert.ok(!none.equals(half), 'strength 0.5 varies the image');
  await page.close();
});
