// img2img's "Noise multiplier" in a real browser: the field appears with a source image, a run with 0.5 records
// A1111's "Noise multiplier: 0.5" in its parameters (the range check is renderer/src/lib/noise-multiplier-form.test.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { e2eApp, fillFields } from './helpers/e2e-app.ts';

const app = e2eApp();

test('img2img noise multiplier: set in the form, recorded in the PNG parameters', async () => {
  const page = await app.open();
  await fillFields(page, { Prompt: 'a red circle on a blue background', Seed: '5', Steps: '4' });
  const parametersMatch = (re: RegExp) =>
    page.waitForFunction(
      (source) => new RegExp(source).test(document.querySelector('[aria-label="Parameters"]')?.textContent ?? ''),
      re.source,
      { timeout: 60_000 },
    );
  await page.getByRole('button', { name: 'Generate', exact: true }).click();
  await parametersMatch(/Seed: 5/);
  assert.equal(await page.getByLabel('Noise multiplier').count(), 0, 'no field without a source image');
  await page.getByRole('button', { name: 'Send to img2img', exact: true }).click();
  const field = page.getByLabel('Noise multiplier');
  assert.equal(await field.inputValue(), '1');
  await field.fill('0.5');
  await fillFields(page, { Seed: '6' });
  await page.getByRole('button', { name: 'Generate', exact: true }).click();
  await parametersMatch(/Seed: 6.*Denoising strength: 0\.75, Noise multiplier: 0\.5/s);
  const entry = app.studio.service.gallery.list().find((e) => e.seed === 6);
  assert.ok(entry && /Noise multiplier: 0\.5/.test(entry.parameters), entry?.parameters);
});
