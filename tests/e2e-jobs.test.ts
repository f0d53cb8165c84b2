// Jobs in a real browser (issue 15): a cancel keeps the finished image and says so, "Cancelling…" at
// once, a second Generate is queued (visible, removable), Ctrl+Enter before the model info arrives
// runs once it does, model errors in the banner (not under Steps) that clear with a working model and
// give way to "engine restarting…", a failed model switch said once (no stale banner after a reload),
// the provider picker, and the run's notes in the result panel.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { cpSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { E2E_MODEL, openApp } from './helpers/browser.ts';
import { e2eApp, fillFields, recordTexts } from './helpers/e2e-app.ts';
import { modelFolder } from './helpers/model-folders.ts';
import { startStudio } from './helpers/studio.ts';

const app = e2eApp();

const generateButton = (page: Page) => page.locator('button.primary[form="generate-form"]');

test('cancel while image 2 of 3 runs: "Cancelling…" at once, image 1 kept in the result panel and the gallery', async () => {
  const page = await app.open();
  await fillFields(page, { Prompt: 'a red circle on a blue background', Seed: '21', Steps: '80', 'Batch count': '3' });
  await page.getByRole('button', { name: 'Generate', exact: true }).click();
  await page.getByRole('progressbar', { name: 'Generation progress' }).and(page.locator('[aria-valuetext*="Image 2 of 3"]')).waitFor();
  const seen = await recordTexts(page);
  await page.keyboard.press('Escape');
  await page.getByRole('status').filter({ hasText: 'Cancelled after 1 of 3.' }).waitFor();
  assert.match(await seen(), /Cancelling…/, 'the UI said "Cancelling…" before the engine answered');
  await page.getByAltText('Generated image 1').waitFor();
  assert.equal(await page.getByAltText('Generated image 2').count(), 0);
  assert.match((await page.getByLabel('Parameters').first().textContent()) ?? '', /Seed: 21/);
  assert.ok(
    app.studio.service.gallery.list().some((e) => e.seed === 21),
    'image 1 is in the gallery',
  );
  await page.close();
});

test('a second Generate while one runs is queued, shown with Remove, and runs after it', async () => {
  const page = await app.open();
  await fillFields(page, { Prompt: 'two green triangles', Seed: '31' });
  // Long enough (seconds even on a fast machine) that it is still running while the queue is edited.
  await page.getByLabel('Steps').fill('400');
  await page.getByRole('button', { name: 'Generate', exact: true }).click();
  await page.getByRole('progressbar', { name: 'Generation progress' }).waitFor();
  await fillFields(page, { Seed: '32', Steps: '3' });
  await page.keyboard.press('Control+Enter');
  await page.getByLabel('Seed', { exact: true }).fill('33');
  await page.getByRole('button', { name: 'Generate', exact: true }).click();
  const queue = page.getByRole('region', { name: 'Queued generations' });
  await queue.getByText('seed 33').waitFor();
  assert.equal(await queue.getByRole('listitem').count(), 2);
  await queue.getByRole('button', { name: /Remove from queue: seed 33/ }).click();
  assert.equal(await queue.getByRole('listitem').count(), 1);
  // The queued one (seed 32) runs once the first is done.
  await page.waitForFunction(() => /Seed: 32/.test(document.querySelector('[aria-label="Parameters"]')?.textContent ?? ''), null, {
    timeout: 60_000,
  });
  assert.equal(await queue.count(), 0, 'the queue is empty');
  assert.ok(!app.studio.service.gallery.list().some((e) => e.seed === 33), 'the removed request never ran');
  await page.close();
});

test('Ctrl+Enter before the model info has arrived: "loading model…" (not dimmed), then the request runs', async () => {
  const page = await app.browser.newPage();
  page.setDefaultTimeout(30_000);
  let release!: () => void;
  const released = new Promise<void>((r) => (release = r));
  await page.routeWebSocket(/\/ws/, (ws) => {
    const server = ws.connectToServer();
    ws.onMessage(async (m) => {
      if (typeof m === 'string' && m.includes('"app.info"')) await released; // a cold start's model load
      server.send(m);
    });
  });
  await page.goto(app.studio.server.url);
  await fillFields(page, { Prompt: 'a yellow square', Steps: '3' });
  await page.keyboard.press('Control+Enter');
  assert.equal(await generateButton(page).textContent(), 'loading model…');
  assert.equal(await generateButton(page).isDisabled(), false, 'not dimmed like "busy"');
  release();
  await page.getByAltText('Generated image 1').waitFor();
  await page.close();
});

test('the provider picker lists every provider; unavailable ones are disabled with the reason', async () => {
  const page = await app.open();
  const picker = page.getByRole('combobox', { name: 'Execution provider' });
  const options = await picker.locator('option').evaluateAll((els) =>
    els.map((o) => ({
      value: (o as HTMLOptionElement).value,
      disabled: (o as HTMLOptionElement).disabled,
      title: o.getAttribute('title'),
    })),
  );
  assert.deepEqual(
    options.map((o) => o.value),
    ['auto', 'cuda', 'dml', 'coreml', 'webgpu', 'cpu'],
  );
  for (const o of options) if (o.disabled) assert.ok((o.title ?? '').length > 10, `${o.value} says why`);
  assert.equal(options.find((o) => o.value === 'dml')?.disabled, process.platform !== 'win32');
  assert.equal(await picker.inputValue(), 'cpu');
  await picker.selectOption('auto');
  await page.waitForFunction(
    () => (document.querySelector('select[aria-label="Execution provider"]') as HTMLSelectElement | null)?.disabled === false,
  );
  assert.equal(await picker.inputValue(), 'auto');
  assert.match((await picker.locator('option[value="auto"]').textContent()) ?? '', /Auto \(\w+\)/, 'auto says what it chose');
  await picker.selectOption('cpu');
  await page.close();
});

test('model errors: in the banner, not under Steps; cleared by a working model; "engine restarting…" during a restart', async () => {
  const broken = await startStudio({ model: '/nonexistent/model' });
  const page = await app.browser.newPage();
  page.setDefaultTimeout(30_000);
  try {
    await page.goto(broken.server.url);
    await page.getByRole('alert').filter({ hasText: 'could not be loaded' }).waitFor();
    await page.getByLabel('Steps').fill('7');
    await page.waitForTimeout(1000); // plan.describe answers
    assert.doesNotMatch(await page.locator('form#generate-form').innerText(), /no model is loaded/, 'not attached to a field');
    // The option reads "restart-shapes-64 (built-in) — SD 1 · eps · fp32 · N MB".
    const builtIn = await page
      .getByLabel('Model', { exact: true })
      .locator('option', { hasText: 'restart-shapes-64 (built-in)' })
      .getAttribute('value');
    await page.getByLabel('Model', { exact: true }).selectOption(builtIn!);
    await generateButton(page)
      .and(page.getByText('Generate', { exact: true }))
      .waitFor();
    await page.getByRole('alert').waitFor({ state: 'detached' });
    const seen = await recordTexts(page);
    await broken.service.engine.request('crash', {}).catch(() => undefined);
    await page.getByText('engine restarting…').first().waitFor();
    await page.getByLabel('Steps').fill('8'); // asks plan.describe while the engine restarts
    await page.getByText('The engine restarted and is ready again.').waitFor();
    await page.waitForTimeout(500);
    assert.doesNotMatch(await seen(), /no model is loaded|could not be loaded/);
    assert.equal(await page.getByRole('alert').count(), 0);
  } finally {
    await page.close();
    await broken.stop();
  }
});

test('a failed model switch is said once, as the switch\'s error; after a reload no stale "could not be loaded" banner', async () => {
  const studio = await startStudio({ model: E2E_MODEL });
  // A folder the picker lists (the models folder is scanned) but the engine cannot load: no tokenizer.
  const broken = join(studio.dataDir, 'models', 'no-tokenizer');
  cpSync(modelFolder('tiny-sd-eps-int64'), broken, { recursive: true });
  rmSync(join(broken, 'tokenizer'), { recursive: true });
  const page = await openApp(app.browser, studio.server.url);
  try {
    const picker = page.getByLabel('Model', { exact: true });
    const working = await picker.inputValue();
    await picker.selectOption(broken);
    const alert = page.getByRole('alert').filter({ hasText: 'Could not switch to no-tokenizer:' });
    await alert.waitFor();
    await page.waitForTimeout(500); // the previous model's "ready" must not wipe it
    assert.match(await alert.innerText(), /^Could not switch to no-tokenizer: tokenizer: .*; still using restart-shapes-64\n/);
    assert.equal(await picker.inputValue(), working, 'the picker shows the model still loaded');
    await page.reload();
    await generateButton(page)
      .and(page.getByText('Generate', { exact: true }))
      .waitFor();
    await page.waitForTimeout(1000);
    assert.equal(await page.getByRole('alert').count(), 0, 'no banner: the previous model works');
    assert.equal(await picker.inputValue(), working);
  } finally {
    await page.close();
    await studio.stop();
  }
});

test("the run's notes (tokens dropped by a fixed-length UNet) are shown in the result panel", async () => {
  const fixed = await startStudio({ model: modelFolder('tiny-sd-fixed77') });
  try {
    const page = await openApp(app.browser, fixed.server.url);
    const words = Array.from({ length: 120 }, (_, i) => ['red', 'circle', 'blue', 'square'][i % 4]).join(' ');
    await fillFields(page, { Prompt: words, Steps: '2' });
    await page.getByRole('button', { name: 'Generate', exact: true }).click();
    await page.getByAltText('Generated image 1').waitFor();
    await page.getByRole('note', { name: 'Notes of this run' }).getByText('45 tokens dropped').waitFor();
    await page.close();
  } finally {
    await fixed.stop();
  }
});
