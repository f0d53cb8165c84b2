// End to end in a real browser (local mode, the end-to-end model): A1111's Sigma churn fields, shown for Euler, Heun and
// DPM2 only. A churn makes the PNG carry "Sigma churn" and changes the image; dropping that PNG back fills the field,
// and a PNG made without it empties it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dropFile, e2eApp, fillFields, generateOne } from './helpers/e2e-app.ts';

// E2E_STATIC serves another renderer build (e.g. one made before a change, to see a test fail).
const app = e2eApp({ staticDir: process.env.E2E_STATIC });

test('Sigma churn: shown for Euler, the PNG carries it, the image changes, a dropped PNG brings it back or empties it', async () => {
  const page = await app.open();
  await fillFields(page, { Prompt: 'a red circle on a blue background', Sampler: 'Euler a', Seed: '7', Steps: '4' });
  const churn = page.getByLabel('Sigma churn', { exact: true });
  assert.equal(await churn.isVisible(), false, 'Euler a does not read it');
  await fillFields(page, { Sampler: 'Euler' });
  await churn.waitFor({ state: 'visible' });
  const plain = await generateOne(app, page);
  assert.doesNotMatch(plain.parameters, /Sigma churn/);

  await fillFields(page, { 'Sigma churn': '1.5' });
  const churned = await generateOne(app, page);
  assert.match(churned.parameters, /Sampler: Euler, .*Sigma churn: 1.5/);
  assert.notDeepEqual(churned.png, plain.png);

  await fillFields(page, { 'Sigma churn': '' });
  await dropFile(page, 'churned.png', churned.png);
  await page.waitForFunction(() => (document.getElementById('sigma-churn') as HTMLInputElement | null)?.value === '1.5');
  await dropFile(page, 'plain.png', plain.png);
  await page.waitForFunction(() => (document.getElementById('sigma-churn') as HTMLInputElement | null)?.value === '');
  await page.close();
});
