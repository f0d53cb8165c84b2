// End to end in a real browser (local mode, the embedded model), what a new user trips over (issue 15):
// the model's native size and a warning far from it, size bounds from the contract, a too-long prompt
// in words with its counter kept, PNG imports that name the image, settings that survive a reload, a
// header on one row at 1024 px, the gallery's one tab stop, names and filter, the Compare export's
// labels and metadata, and screenshots of the four views at 1024x700 and 1920x1080.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encode } from 'fast-png';
import { E2E_MODEL, openApp as openAppPage, SCREENSHOTS } from './helpers/browser.ts';
import { download, dropFile, e2eApp, fillFields, samplerAxis, tickSamplers } from './helpers/e2e-app.ts';
import { startStudio } from './helpers/studio.ts';
import { pngTextChunks } from '../renderer/src/lib/png.ts';

// E2E_STATIC serves another renderer build (e.g. one made before a change, to see a test fail).
const app = e2eApp({ staticDir: process.env.E2E_STATIC }, { acceptDownloads: true });

const openApp = () => app.open();

test("the model's native size is shown, a size far from it is warned about, and the bounds come from the contract", async () => {
  const page = await openApp();
  await page.getByText('Native size 64×64').waitFor();
  const width = page.getByLabel('Width', { exact: true });
  assert.equal(await width.getAttribute('min'), '8', "the contract's minimum, not the 4x VAE factor");
  assert.equal(await width.getAttribute('max'), '4096');
  assert.equal(await width.getAttribute('step'), '8', "the UNet's multiple: the VAE factor 4 x one downsampling");
  await width.fill('512');
  await page.getByLabel('Height', { exact: true }).fill('768');
  const warning = page.getByRole('status').filter({ hasText: 'native 64×64' });
  await warning.waitFor();
  assert.match((await warning.textContent()) ?? '', /512×768.*slow.*memory.*duplicated/s);
  await page.getByRole('button', { name: 'use it' }).click();
  assert.equal(await page.getByLabel('Height', { exact: true }).inputValue(), '64');
  assert.equal(await warning.count(), 0, 'the warning goes with the native size');
  await page.close();
});

test('a prompt over the length limit is described in words and the token counter stays', async () => {
  const page = await openApp();
  const words = Array.from({ length: 5000 }, (_, i) => ['red', 'circle', 'blue', 'background'][i % 4]).join(' ');
  await page.getByLabel('Prompt', { exact: true }).fill(words);
  await page.getByText(`The prompt is ${words.length.toLocaleString('en-US')} characters; the limit is 20,000`).waitFor();
  await page.locator('#prompt-tokens').filter({ hasText: 'in the first 20,000 characters' }).waitFor();
  await page.getByRole('button', { name: 'Generate', exact: true }).click();
  const alert = await page.getByRole('alert').allTextContents();
  assert.ok(
    alert.some((t) => t.includes('limit is 20,000')),
    alert.join(' | '),
  );
  assert.ok(
    alert.every((t) => !t.includes('Too big')),
    'no validator text',
  );
  await page.close();
});

test('a PNG import names the image; a PNG without parameters says so', async () => {
  const page = await openApp();
  await dropFile(page, 'from-a1111.png', readFileSync(new URL('./fixtures/png/a1111-basic.png', import.meta.url)));
  const notes = page.getByRole('status', { name: 'Import notes' });
  await notes.filter({ hasText: 'Loaded parameters from "from-a1111.png"' }).waitFor();
  const promptBefore = await page.getByLabel('Prompt', { exact: true }).inputValue();
  const plain = encode({ width: 4, height: 4, data: new Uint8Array(4 * 4 * 3), channels: 3 });
  await dropFile(page, 'holiday.png', plain);
  await notes.filter({ hasText: '"holiday.png": this PNG has no generation parameters' }).waitFor();
  assert.doesNotMatch((await notes.textContent()) ?? '', /Loaded parameters/);
  assert.equal(await page.getByLabel('Prompt', { exact: true }).inputValue(), promptBefore, 'the form is left alone');
  await page.close();
});

test(
  'prompt, negative prompt, sampler, steps, CFG, size and the tab survive a reload; ' + 'hostile saved values do not break the form',
  async () => {
    const page = await openApp();
    await fillFields(page, {
      Prompt: 'a kept prompt',
      'Negative prompt': 'a kept negative',
      Sampler: 'Heun',
      Steps: '7',
      'CFG scale': '4.5',
      Width: '96',
      Height: '128',
    });
    await page.getByRole('tab', { name: 'Compare' }).click();
    await page.reload();
    await page.getByRole('tab', { name: 'Compare', selected: true }).waitFor();
    await page.getByRole('tab', { name: 'Generate' }).click();
    await page.locator('button.primary:not([disabled])', { hasText: 'Generate' }).waitFor();
    assert.equal(await page.getByLabel('Prompt', { exact: true }).inputValue(), 'a kept prompt');
    assert.equal(await page.getByLabel('Negative prompt').inputValue(), 'a kept negative');
    assert.equal(await page.getByLabel('Sampler').inputValue(), 'heun');
    assert.equal(await page.getByLabel('Steps').inputValue(), '7');
    assert.equal(await page.getByLabel('CFG scale').inputValue(), '4.5');
    assert.equal(await page.getByLabel('Width', { exact: true }).inputValue(), '96', "a kept size is not replaced by the model's");
    assert.equal(await page.getByLabel('Height', { exact: true }).inputValue(), '128');

    await page.evaluate(() => {
      for (let i = 0; i < localStorage.length; i++) {
        localStorage.setItem(
          localStorage.key(i)!,
          JSON.stringify({ steps: '<b>', width: -1, sampler: 'nope', view: 'x', prompt: 5, cfgScale: 1e9 }),
        );
      }
    });
    await page.reload();
    await page.locator('button.primary:not([disabled])', { hasText: 'Generate' }).waitFor();
    assert.equal(await page.getByLabel('Steps').inputValue(), '20');
    assert.equal(await page.getByLabel('Width', { exact: true }).inputValue(), '64');
    assert.equal(await page.getByLabel('Sampler').inputValue(), 'euler');
    await page.close();
  },
);

test('the header fits one row at 1024 px, also with a provider fallback note', async () => {
  // Asking for CUDA where it cannot load makes the engine fall back and say why: the longest header.
  const fallback = await startStudio({ model: E2E_MODEL, staticDir: process.env.E2E_STATIC, provider: 'cuda' });
  const page = await openAppPage(app.browser, fallback.server.url);
  await page.getByRole('note', { name: 'Provider fallback' }).waitFor();
  for (const width of [1024, 1280]) {
    await page.setViewportSize({ width, height: 700 });
    const box = await page.evaluate(() => {
      const header = document.querySelector('header')!;
      const laidOut = [...header.children].filter((c) => getComputedStyle(c).position !== 'absolute');
      const centers = laidOut.map((c) => {
        const r = c.getBoundingClientRect();
        return r.top + r.height / 2;
      });
      return {
        height: header.getBoundingClientRect().height,
        spread: Math.max(...centers) - Math.min(...centers),
        overflow: header.scrollWidth - header.clientWidth,
      };
    });
    assert.ok(box.height < 56 && box.spread < 4, `one row at ${width} px: ${JSON.stringify(box)}`);
    assert.ok(box.overflow <= 0, `nothing pushed out of the header at ${width} px: ${JSON.stringify(box)}`);
  }
  await page.close();
  await fallback.stop();
});

test('gallery: one tab stop with arrow keys inside, names that tell images apart, a filter', async () => {
  const page = await openApp();
  await fillFields(page, { Prompt: 'a green triangle', Steps: '2', 'Batch count': '2' });
  await page.getByRole('button', { name: 'Generate', exact: true }).click();
  await page.getByAltText('Generated image 2').waitFor();
  await page.getByRole('tab', { name: 'Gallery' }).click();
  const thumbs = page.getByRole('group', { name: 'Gallery thumbnails' }).getByRole('button');
  await thumbs.nth(1).waitFor();
  const names = await thumbs.evaluateAll((els) => els.map((e) => e.getAttribute('aria-label')));
  for (const name of names) assert.match(name ?? '', /^seed \d+, \d\d:\d\d, Euler(, #\d+)?$/);
  assert.equal(new Set(names).size, names.length, 'names tell the images apart');
  assert.equal((await thumbs.first().textContent())?.trim(), names[0], 'the name is the visible caption');
  assert.equal(await page.locator('[aria-label="Gallery thumbnails"] [tabindex="0"]').count(), 1, 'one tab stop');
  await page.getByLabel('Prompt', { exact: true }).focus();
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('aria-label')), names[0]);
  await page.keyboard.press('ArrowRight');
  assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('aria-label')), names[1]);
  await page.keyboard.press('Tab');
  assert.ok(!names.includes(await page.evaluate(() => document.activeElement?.getAttribute('aria-label') ?? null)), 'Tab leaves the grid');

  await page.getByLabel('From').selectOption({ label: 'Compare' });
  await page.getByText('No image matches the filter.').waitFor();
  await page.getByLabel('From').selectOption({ label: 'Generate' });
  assert.equal(await thumbs.count(), names.length);
  await page.getByLabel('Prompt', { exact: true }).fill('no such words');
  await page.getByText('No image matches the filter.').waitFor();
  await page.getByLabel('Prompt', { exact: true }).fill('GREEN');
  await page.getByLabel('Sampler').selectOption('Euler');
  assert.equal(await thumbs.count(), names.length);
  await page.close();
});

test(
  'compare export: UI labels, prompt, seed and model in the header and the PNG metadata; ' + 'screenshots of every view at two sizes',
  async () => {
    const page = await openApp();
    await fillFields(page, { Prompt: 'a red circle on a blue background', Seed: '9' });
    await page.getByRole('tab', { name: 'Compare' }).click();
    await samplerAxis(page, ['Euler', 'Euler a']);
    await page.getByLabel('Y axis').selectOption('steps');
    await page.getByLabel('Y values').fill('2, 3');
    await page.getByRole('button', { name: 'Run grid' }).click();
    await page.getByRole('button', { name: 'Export PNG' }).waitFor({ timeout: 180_000 });
    const grid = page.getByRole('table', { name: 'Comparison grid' });
    assert.deepEqual(await grid.getByRole('columnheader').allTextContents(), ['Euler', 'Euler a']);
    assert.deepEqual(await grid.getByRole('rowheader').allTextContents(), ['2 steps', '3 steps']);
    await grid.getByAltText('Cell Euler a / 3 steps').waitFor();

    const png = (await download(page, 'Export PNG')).bytes;
    writeFileSync(join(SCREENSHOTS, 'compare-export.png'), png); // to look at
    const texts = new Map(pngTextChunks(new Uint8Array(png)));
    assert.match(texts.get('parameters') ?? '', /a red circle on a blue background/);
    const meta = JSON.parse(texts.get('restart-studio-grid') ?? '{}');
    assert.equal(meta.prompt, 'a red circle on a blue background');
    assert.equal(meta.seed, 9);
    assert.equal(meta.model, 'restart-shapes-64');
    assert.deepEqual(meta.columns, ['Euler', 'Euler a']);

    await page.getByRole('tab', { name: 'Explore' }).click();
    await tickSamplers(page, 'Samplers', ['Euler']);
    await fillFields(page, { Steps: '2', 'CFG scales': '1, 5', 'Seeds per scale': '2' });
    await page.getByRole('button', { name: 'Run sweep' }).click();
    await page.getByRole('button', { name: 'Export plot PNG' }).waitFor({ timeout: 180_000 });

    await page.getByRole('tab', { name: 'Generate' }).click();
    await page.getByLabel('Steps').fill('2');
    await page.getByRole('button', { name: 'Generate', exact: true }).click();
    await page.getByAltText('Generated image 1').waitFor();
    for (const [w, h] of [
      [1024, 700],
      [1920, 1080],
    ]) {
      await page.setViewportSize({ width: w, height: h });
      for (const view of ['Generate', 'Gallery', 'Compare', 'Explore']) {
        await page.getByRole('tab', { name: view }).click();
        await page.getByRole('tabpanel').waitFor();
        if (view === 'Gallery') await page.getByRole('group', { name: 'Gallery thumbnails' }).getByRole('button').first().click();
        await page.waitForTimeout(300); // uPlot redraws at the new size
        await page.screenshot({ path: join(SCREENSHOTS, `${view.toLowerCase()}-${w}x${h}.png`) });
      }
    }
    await page.close();
  },
);

test("prompt editing: the counter counts the longest scheduled text for the form's steps, as A1111's does", async () => {
  const page = await openApp();
  await page.getByLabel('Prompt', { exact: true }).fill('[a red circle:a red circle on a blue square:5]');
  const counter = page.locator('text=/^\\d+\\/75$/').first();
  for (const [steps, tokens] of [
    ['20', '7/75'], // switches at step 5: "a red circle on a blue square" is counted
    ['3', '3/75'], // the switch is past the last step: only "a red circle" is ever used
  ]) {
    await page.getByLabel('Steps', { exact: true }).fill(steps);
    await page.waitForFunction(
      ({ want }) => [...document.querySelectorAll('*')].some((e) => e.childElementCount === 0 && e.textContent?.trim() === want),
      { want: tokens },
    );
    assert.equal(((await counter.textContent()) ?? '').trim(), tokens);
  }
  await page.close();
});
