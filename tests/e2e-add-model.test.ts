// "Add model…" end to end in a real browser (issue 18), local mode with the real server, importer and
// engine: type a checkpoint's path (with the architecture from a diffusers folder, in Advanced), watch
// the import's progress, pick the model with its kind in the picker, generate an image with it, and
// remove it. A diffusers-ONNX folder is added once ("already in the list" after), one without a tokenizer
// is refused; errors show in the dialog (a truncated file), and a cancelled import keeps nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { SCREENSHOTS } from './helpers/browser.ts';
import { e2eApp, recordTexts } from './helpers/e2e-app.ts';
import { cacheEntries, mediumCheckpoint } from './helpers/import-sources.ts';
import { FIXTURES, modelFolder } from './helpers/model-folders.ts';

const SD1_LDM = join(FIXTURES, 'import', 'sd1', 'sd1-ldm-fp32.safetensors');
const SD1_CONFIG = join(FIXTURES, 'import', 'sd1', 'diffusers');

const app = e2eApp();

async function openDialog(page: Page) {
  await page.getByRole('button', { name: 'Add model…' }).click();
  const dialog = page.getByRole('dialog', { name: 'Add model' });
  await dialog.waitFor();
  return dialog;
}

const cacheFolder = () => cacheEntries(app.studio.service.models.library.cacheDir);

test('add a checkpoint by path, see its progress, pick it with its kind, generate, remove it', async () => {
  const page = await app.open();
  const dialog = await openDialog(page);
  await dialog.getByLabel('Model path').fill(SD1_LDM);
  await dialog.getByLabel('Name in the list (optional)').fill('Tiny SD 1');
  await dialog.getByText('Advanced').click();
  await dialog.getByLabel('Architecture from a diffusers folder').fill(SD1_CONFIG);
  const seen = await recordTexts(page);
  await dialog.getByRole('button', { name: 'Add', exact: true }).click();
  await dialog.getByRole('progressbar', { name: 'Import progress' }).waitFor();
  await dialog.getByRole('status').filter({ hasText: 'Added Tiny SD 1.' }).waitFor({ timeout: 180_000 });
  assert.match(await seen(), /Importing Tiny SD 1/);
  assert.match(await seen(), /Converting the UNet · \d+%/, 'the stages were shown');
  assert.equal(await dialog.getByRole('progressbar', { name: 'Import progress' }).count(), 0, 'the bar is gone when done');
  const listed = dialog.getByRole('list', { name: 'Models in the list' }).getByRole('listitem').filter({ hasText: 'Tiny SD 1' });
  assert.match(await listed.innerText(), /SD 1 · eps · fp32 · [\d.]+ MB[\s\S]*imported from .*sd1-ldm-fp32\.safetensors/);
  await page.screenshot({ path: join(SCREENSHOTS, 'add-model.png') });
  await dialog.getByRole('button', { name: 'Close' }).click();

  const option = page.locator('#model-picker option', { hasText: 'Tiny SD 1' });
  assert.match(await option.innerText(), /^Tiny SD 1 — SD 1 · eps · fp32 · [\d.]+ MB$/);
  await page.getByLabel('Model', { exact: true }).selectOption((await option.getAttribute('value'))!);
  await page.waitForFunction(() => !document.querySelector('header')?.textContent?.includes('loading…'));
  await page.getByLabel('Prompt', { exact: true }).fill('a red circle');
  await page.getByLabel('Steps').fill('3');
  await page.getByRole('button', { name: 'Generate', exact: true }).click();
  await page.getByAltText('Generated image 1').waitFor({ timeout: 120_000 });
  assert.match((await page.getByLabel('Parameters').first().textContent()) ?? '', /Model: sd1-ldm-fp32,/);

  // Back to the built-in model; then the import can be removed, and its cached copy goes with it.
  const builtin = page.locator('#model-picker option', { hasText: '(built-in)' });
  await page.getByLabel('Model', { exact: true }).selectOption((await builtin.getAttribute('value'))!);
  await page.waitForFunction(() => !document.querySelector('header')?.textContent?.includes('loading…'));
  const again = await openDialog(page);
  await again.getByRole('button', { name: 'Remove Tiny SD 1 from the list' }).click();
  await again.getByRole('status').filter({ hasText: 'Removed Tiny SD 1 from the list and deleted its imported copy.' }).waitFor();
  assert.equal(await page.locator('#model-picker option', { hasText: 'Tiny SD 1' }).count(), 0);
  assert.deepEqual(cacheFolder(), []);
  assert.ok(existsSync(SD1_LDM));
  await page.close();
});

test('a diffusers-ONNX folder: "Added" once, then only "already in the list"; one without a tokenizer is refused', async () => {
  const folder = join(mkdtempSync(join(tmpdir(), 'e2e-onnx-')), 'Tiny ONNX');
  cpSync(modelFolder('tiny-sd-eps-int64'), folder, { recursive: true });
  const page = await app.open();
  const dialog = await openDialog(page);
  const status = dialog.getByRole('status');
  for (const expected of ['Added Tiny ONNX.', 'Tiny ONNX is already in the list.']) {
    await dialog.getByLabel('Model path').fill(folder);
    await dialog.getByRole('button', { name: 'Add', exact: true }).click();
    await status.filter({ hasText: expected }).waitFor();
  }
  assert.doesNotMatch(await status.innerText(), /Added/, 'not "Added" beside "already in the list"');
  assert.equal(await page.locator('#model-picker option', { hasText: 'Tiny ONNX' }).count(), 1);

  rmSync(join(folder, 'tokenizer'), { recursive: true });
  const broken = join(mkdtempSync(join(tmpdir(), 'e2e-onnx-')), 'No tokenizer');
  cpSync(folder, broken, { recursive: true });
  await dialog.getByLabel('Model path').fill(broken);
  await dialog.getByRole('button', { name: 'Add', exact: true }).click();
  const alert = dialog.getByRole('alert');
  await alert.waitFor();
  assert.match(await alert.innerText(), /^Could not add the model: cannot add No tokenizer: the diffusers-ONNX folder has no tokenizer\//);
  assert.equal(await page.locator('#model-picker option', { hasText: 'No tokenizer' }).count(), 0);
  await dialog.getByRole('button', { name: 'Remove Tiny ONNX from the list' }).click();
  await status.filter({ hasText: 'Removed Tiny ONNX from the list' }).waitFor();
  await page.close();
});

test('a truncated checkpoint: the dialog says what is wrong and nothing is added', async () => {
  const truncated = join(mkdtempSync(join(tmpdir(), 'e2e-bad-')), 'truncated.safetensors');
  writeFileSync(truncated, readFileSync(SD1_LDM).subarray(0, 200_000));
  const page = await app.open();
  const before = await page.locator('#model-picker option').count();
  const dialog = await openDialog(page);
  await dialog.getByLabel('Model path').fill(truncated);
  await dialog.getByRole('button', { name: 'Add', exact: true }).click();
  const alert = dialog.getByRole('alert');
  await alert.waitFor();
  assert.match(
    await alert.innerText(),
    /^Could not add the model: cannot add truncated\.safetensors: truncated\.safetensors: truncated file/,
  );
  assert.equal(await page.locator('#model-picker option').count(), before);
  assert.deepEqual(cacheFolder(), []);
  await page.close();
});

test('cancel while importing: "Import cancelled", nothing in the list or the cache', async () => {
  const checkpoint = mediumCheckpoint(join(mkdtempSync(join(tmpdir(), 'e2e-medium-')), 'medium.safetensors'));
  const page = await app.open();
  const before = await page.locator('#model-picker option').count();
  const dialog = await openDialog(page);
  await dialog.getByLabel('Model path').fill(checkpoint);
  await dialog.getByRole('button', { name: 'Add', exact: true }).click();
  // As soon as the bar shows (the import is then hashing or starting its worker: a cancel always lands
  // before the end; tests/model-add.test.ts cancels in the middle of writing the UNet).
  await dialog.getByRole('progressbar', { name: 'Import progress' }).waitFor();
  await dialog.getByRole('button', { name: 'Cancel import' }).click();
  await dialog.getByRole('status').filter({ hasText: 'Import cancelled; nothing was kept.' }).waitFor();
  assert.equal(await dialog.getByRole('alert').count(), 0, 'a cancel is not an error');
  assert.equal(await page.locator('#model-picker option').count(), before);
  assert.deepEqual(cacheFolder(), []);
  await page.close();
});

test('a model added while another imports waits its turn, and can be taken out of the queue', async () => {
  const checkpoint = mediumCheckpoint(join(mkdtempSync(join(tmpdir(), 'e2e-queue-')), 'medium.safetensors'));
  const page = await app.open();
  const dialog = await openDialog(page);
  await dialog.getByLabel('Model path').fill(checkpoint);
  await dialog.getByRole('button', { name: 'Add', exact: true }).click();
  await dialog.getByRole('progressbar', { name: 'Import progress' }).waitFor();
  // Add stays available while an import runs; the second one waits (tests/model-import-queue.test.ts runs a queue through).
  await dialog.getByLabel('Model path').fill(SD1_LDM);
  await dialog.getByLabel('Name in the list (optional)').fill('Queued SD 1');
  await dialog.getByRole('button', { name: 'Add', exact: true }).click();
  const waiting = dialog.getByRole('list', { name: 'Imports waiting' });
  await waiting.getByText('Queued SD 1 · Waiting · 1 import before it').waitFor();
  await page.getByText(/importing \d+%, 1 waiting/).waitFor();
  await waiting.getByRole('button', { name: 'Take Queued SD 1 out of the queue' }).click();
  await dialog.getByRole('status').filter({ hasText: 'Queued SD 1 was taken out of the queue; nothing was imported.' }).waitFor();
  assert.equal(await waiting.count(), 0);
  assert.equal(await dialog.getByRole('progressbar', { name: 'Import progress' }).count(), 1, 'the running import goes on');
  await dialog.getByRole('button', { name: 'Cancel import' }).click();
  await dialog.getByRole('status').filter({ hasText: 'Import cancelled; nothing was kept.' }).waitFor();
  assert.deepEqual(cacheFolder(), []);
  await page.close();
});
