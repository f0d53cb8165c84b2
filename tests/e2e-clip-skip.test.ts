// End to end in a real browser (local mode, the embedded model): the Generate form's Clip skip reaches the request
// (the embedded model's text encoder has no hidden states, so clip skip 2 is refused, in words, before any work)
// and survives a reload, as A1111 keeps its setting.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { e2eApp } from './helpers/e2e-app.ts';

const app = e2eApp();

test('Clip skip: the chosen value is sent with the request and kept across a reload', async () => {
  const page = await app.open();
  const clipSkip = page.getByLabel('Clip skip');
  assert.equal(await clipSkip.inputValue(), '1');
  await page.getByLabel('Prompt', { exact: true }).fill('a red circle on a blue background');
  await clipSkip.selectOption('2');
  await page.locator('button.primary:not([disabled])', { hasText: 'Generate' }).click();
  const alert = page.getByRole('alert').filter({ hasText: 'Clip skip 2' });
  await alert.waitFor();
  assert.match((await alert.textContent()) ?? '', /Clip skip 2 needs the text encoder's hidden states.*or use Clip skip 1/s);
  await page.reload();
  await page.locator('button.primary:not([disabled])', { hasText: 'Generate' }).waitFor();
  assert.equal(await page.getByLabel('Clip skip').inputValue(), '2');
  await page.close();
});
