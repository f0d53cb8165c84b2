// End to end in a real browser (local mode, the embedded model), the UI audit's defects: Esc in the "Add model…"
// dialog closes it and leaves the job alone, Ctrl+Enter runs the browser's field checks as the Generate button
// does, a form-check error leaves the banner once the field is fixed, a non-image dropped on the img2img slot is
// named, the gallery's selected image keeps its actions in the window, and the size fields step by what the
// model's UNet takes (8 px for the embedded model, whose VAE factor is 4); a page reloaded mid-job follows that job.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encode } from 'fast-png';
import type { Page } from 'playwright-core';
import { Gallery } from '../electron/gallery.ts';
import type { Params, Results, ValidCall } from '../src-core/contract/api.ts';
import { addTextChunks } from '../src-core/png/text-chunks.ts';
import { e2eApp } from './helpers/e2e-app.ts';

/** A gallery of 40 small images and, newest, a tall one: the data folder the app starts on. */
function galleryData(): string {
  const dataDir = mkdtempSync(join(tmpdir(), 'e2e-ux-'));
  const gallery = new Gallery(join(dataDir, 'gallery'));
  const add = (seed: number, width: number, height: number) => {
    const parameters = `shape ${seed}\nSteps: 1, Sampler: Euler, Seed: ${seed}, Size: ${width}x${height}, NFE: 1`;
    const pixels = new Uint8Array(width * height * 3).fill((seed * 37) % 256);
    const png = addTextChunks(Buffer.from(encode({ width, height, data: pixels, channels: 3 })), { parameters });
    gallery.add([{ seed, width, height, parameters, png }], { evaluations: 1, seconds: 0 });
  };
  for (let seed = 1; seed <= 40; seed++) add(seed, 64, 64);
  add(41, 512, 768);
  return dataDir;
}

// E2E_STATIC serves another renderer build (e.g. one made before a change, to see a test fail).
const app = e2eApp({ staticDir: process.env.E2E_STATIC, dataDir: galleryData() });

/** The methods of the calls the page sends from now on. */
function sentCalls(page: Page): string[] {
  const methods: string[] = [];
  page.on('websocket', (ws) =>
    ws.on('framesent', (frame) => {
      const method = (JSON.parse(String(frame.payload)) as { method?: string }).method;
      if (method) methods.push(method);
    }),
  );
  return methods;
}

/** A page whose calls are recorded from its first one. */
async function openRecorded(viewport = { width: 1280, height: 800 }): Promise<{ page: Page; sent: string[] }> {
  const page = await app.browser.newPage({ viewport });
  page.setDefaultTimeout(60_000);
  const sent = sentCalls(page);
  await page.goto(app.studio.server.url);
  await page.locator('button.primary:not([disabled])', { hasText: 'Generate' }).waitFor();
  return { page, sent };
}

const generateButton = (page: Page) => page.locator('button.primary', { hasText: 'Generate' });

test('Esc in the "Add model…" dialog closes it and leaves the running generation alone; outside it, Esc cancels', async () => {
  const { page, sent } = await openRecorded();
  await page.getByLabel('Prompt', { exact: true }).fill('a red circle');
  await page.getByLabel('Batch count', { exact: true }).fill('100');
  await page.getByLabel('Steps', { exact: true }).fill('50');
  await generateButton(page).click();
  const cancel = page.getByRole('button', { name: 'Cancel', exact: true });
  await page.waitForFunction(() => [...document.querySelectorAll('button')].some((b) => b.textContent?.trim() === 'Cancel' && !b.disabled));

  await page.getByRole('button', { name: 'Add model…' }).click();
  await page.locator('dialog[open]').waitFor();
  await page.keyboard.press('Escape');
  await page.locator('dialog[open]').waitFor({ state: 'detached', timeout: 5000 });
  await page.waitForTimeout(500);
  assert.equal(await page.locator('dialog[open]').count(), 0, 'the dialog is closed');
  assert.ok(!sent.includes('job.cancel'), `no cancel was sent: ${sent.join(', ')}`);
  assert.ok(await cancel.isEnabled(), 'the generation still runs');

  await page.keyboard.press('Escape');
  await page.waitForFunction(
    () => ![...document.querySelectorAll('button')].some((b) => b.textContent?.trim() === 'Cancel' && !b.disabled),
  );
  assert.ok(sent.includes('job.cancel'), 'Esc outside a dialog cancels');
  await page.close();
});

test('a page reloaded while its generation runs shows that job again, and Cancel stops it', async () => {
  const { page } = await openRecorded();
  await page.getByLabel('Prompt', { exact: true }).fill('a red circle');
  await page.getByLabel('Batch count', { exact: true }).fill('100');
  await page.getByLabel('Steps', { exact: true }).fill('50');
  await generateButton(page).click();
  const cancelEnabled = () =>
    page.waitForFunction(() => [...document.querySelectorAll('button')].some((b) => b.textContent?.trim() === 'Cancel' && !b.disabled));
  await cancelEnabled();
  const [running] = await app.studio.service.call({ method: 'job.active', params: {} }, { localPaths: true });
  assert.equal(running?.kind, 'generate');
  const ended = new Promise<{ cancelled: boolean }>((resolve) =>
    app.studio.service.on((event, data) => {
      if (event === 'job.failed' && (data as { jobId: string }).jobId === running.jobId) resolve(data as { cancelled: boolean });
    }),
  );

  await page.reload();
  // The reloaded page follows the job it did not start: its progress, of 100 images, and an enabled Cancel.
  await page.getByRole('progressbar', { name: 'Generation progress' }).and(page.locator('[aria-valuetext*="of 100"]')).waitFor();
  await cancelEnabled();
  await page.getByRole('button', { name: 'Cancel', exact: true }).click();
  assert.equal((await ended).cancelled, true, 'the job was cancelled from the reloaded page');
  await page
    .getByRole('status')
    .filter({ hasText: /Cancelled/ })
    .waitFor();
  assert.deepEqual(await app.studio.service.call({ method: 'job.active', params: {} }, { localPaths: true }), []);
  await page.close();
});

test('a window opened while a Compare grid runs shows that grid, the cells it made before, and Cancel stops it', async () => {
  const call = <M extends 'job.grid' | 'job.active'>(method: M, params: Params<M>) =>
    app.studio.service.call({ method, params } as ValidCall, { localPaths: true }) as Promise<Results[M]>;
  // Eight cells of 150 steps: seconds each on two cores, so it is still running when the page opens.
  const { jobId } = await call('job.grid', {
    base: { prompt: 'a red circle', seed: 5, steps: 150, width: 64, height: 64 },
    x: { kind: 'seed', values: [1, 2, 3, 4, 5, 6, 7, 8] },
  } as Params<'job.grid'>);
  let firstCell: () => void = () => undefined;
  const cellDone = new Promise<void>((resolve) => (firstCell = resolve));
  const ended = new Promise<{ cancelled: boolean }>((resolve) =>
    app.studio.service.on((event, data) => {
      if (event === 'grid.cell' && (data as { jobId: string }).jobId === jobId) firstCell();
      if (event === 'job.failed' && (data as { jobId: string }).jobId === jobId) resolve(data as { cancelled: boolean });
    }),
  );
  await cellDone; // the page opens after the first cell: it must show it without having seen its event
  const { page } = await openRecorded();
  await page.getByRole('tab', { name: 'Compare' }).click();
  await page.getByRole('progressbar', { name: 'Grid progress' }).waitFor();
  const table = page.getByRole('table', { name: 'Comparison grid' });
  await table.getByAltText('Cell seed 1').waitFor();
  assert.deepEqual(
    (await table.getByRole('columnheader').allTextContents()).slice(0, 2),
    ['seed 1', 'seed 2'],
    'laid out from its request',
  );
  await page.getByRole('button', { name: 'Cancel', exact: true }).click();
  assert.equal((await ended).cancelled, true, 'the grid was cancelled from the window that adopted it');
  assert.deepEqual(await call('job.active', {}), []);
  await page.close();
});

test('Ctrl+Enter refuses a seed the browser cannot read, as the Generate button does, and sends no job', async () => {
  const { page, sent } = await openRecorded();
  await page.getByLabel('Prompt', { exact: true }).fill('a red circle');
  await page.getByLabel('Steps', { exact: true }).fill('2');
  const seed = page.getByLabel('Seed', { exact: true });
  for (const typed of ['123-', '1e']) {
    await seed.fill('');
    await seed.pressSequentially(typed);
    assert.ok(await seed.evaluate((el: HTMLInputElement) => el.validity.badInput), `${typed} is unreadable to the browser`);
    await seed.press('Control+Enter');
    await page.waitForTimeout(800);
    assert.ok(!sent.includes('job.generate'), `no job for seed "${typed}": ${sent.join(', ')}`);
  }
  // The same keys with a readable seed do send one (the check above can see a job).
  await seed.fill('7');
  await seed.press('Control+Enter');
  await page.waitForFunction(() => [...document.querySelectorAll('.view-output img')].length > 0);
  assert.equal(sent.filter((m) => m === 'job.generate').length, 1);
  await page.close();
});

test('a form-check error leaves the banner once the field is fixed; an engine error stays', async () => {
  const { page } = await openRecorded();
  await page.getByLabel('Prompt', { exact: true }).fill('a red circle');
  const steps = page.getByLabel('Steps', { exact: true });
  await steps.fill('');
  await generateButton(page).click();
  const banner = page.getByRole('alert').filter({ hasText: 'Could not generate: Steps is empty' });
  await banner.waitFor();
  await steps.fill('20');
  await banner.waitFor({ state: 'detached', timeout: 5000 });
  assert.equal(await page.getByRole('alert').filter({ hasText: 'Could not generate' }).count(), 0);

  // The engine's refusal is no form check: it stays while the form changes.
  await page.getByLabel('Prompt', { exact: true }).fill('(a red circle:1.2.3)');
  await generateButton(page).click();
  const refused = page.getByRole('alert').filter({ hasText: /Could not generate: .*1\.2\.3/ });
  await refused.waitFor();
  await steps.fill('21');
  await page.waitForTimeout(500);
  assert.equal(await refused.count(), 1, 'the engine error is still shown');
  await page.close();
});

test('a file that is no image, dropped on the img2img slot, is named in a message', async () => {
  const { page } = await openRecorded();
  await page.getByRole('region', { name: 'Drop an image for img2img' }).evaluate((slot) => {
    const transfer = new DataTransfer();
    transfer.items.add(new File([new TextEncoder().encode('hello')], 'notes.txt', { type: 'text/plain' }));
    for (const type of ['dragenter', 'dragover', 'drop']) {
      slot.dispatchEvent(new DragEvent(type, { dataTransfer: transfer, bubbles: true, cancelable: true }));
    }
  });
  await page.getByRole('alert').filter({ hasText: 'notes.txt is not an image (PNG, JPEG or WebP)' }).waitFor({ timeout: 5000 });
  assert.equal(await page.getByRole('img', { name: /img2img source/ }).count(), 0, 'no source was set');
  await page.close();
});

/** Whether the selected image's Reuse and Delete buttons lie inside the window. */
async function actionsInView(page: Page): Promise<void> {
  const { height } = page.viewportSize()!;
  for (const name of ['Reuse parameters', 'Delete']) {
    const box = await page.getByRole('button', { name, exact: true }).boundingBox();
    assert.ok(box, `${name} is shown`);
    assert.ok(
      box.y >= 0 && box.y + box.height <= height,
      `${name} at y=${Math.round(box.y)}..${Math.round(box.y + box.height)} of ${height}`,
    );
  }
}

for (const [width, pick] of [
  [800, 2],
  [1280, 0],
] as const) {
  test(`gallery at ${width}x800: the selected image's actions are in the window after a thumbnail is clicked`, async () => {
    const { page } = await openRecorded({ width, height: 800 });
    await page.getByRole('tab', { name: /Gallery/ }).click();
    const thumbs = page.locator('button.thumb');
    await thumbs.nth(40).waitFor();
    // 0 is the tall 512x768 image (newest); 2 a small one near the top, far above where one column ends.
    await thumbs.nth(pick).click();
    await page.getByRole('complementary', { name: 'Selected image' }).waitFor();
    await page.waitForTimeout(300);
    await actionsInView(page);
    // Further down the list too, once the page has scrolled.
    await thumbs.nth(30).scrollIntoViewIfNeeded();
    await thumbs.nth(30).click();
    await page.waitForTimeout(300);
    await actionsInView(page);
    await page.close();
  });
}

test('the size fields step by the 8 px the embedded UNet takes; 68 and a hires target of 68 are refused before any job', async () => {
  const { page, sent } = await openRecorded();
  await page.getByLabel('Prompt', { exact: true }).fill('a red circle');
  const width = page.getByLabel('Width', { exact: true });
  assert.equal(await width.getAttribute('step'), '8');
  assert.equal(await page.getByLabel('Height', { exact: true }).getAttribute('step'), '8');
  await width.fill('68');
  assert.equal(await width.evaluate((el: HTMLInputElement) => el.validity.stepMismatch), true, 'the browser flags 68');
  await generateButton(page).click();
  await page.waitForTimeout(500);

  await width.fill('64');
  await page.locator('#hires-enabled').check();
  await page.getByLabel('Upscale by', { exact: true }).fill('1.1');
  await page.getByText(/Hires fix would make 68×68 images; this model takes sides in multiples of 8/).waitFor({ timeout: 5000 });
  await generateButton(page).click();
  await page
    .getByRole('alert')
    .filter({ hasText: /Could not generate: Hires fix would make 68×68/ })
    .waitFor({ timeout: 5000 });
  assert.ok(!sent.includes('job.generate'), `no job was sent: ${sent.join(', ')}`);
  await page.close();
});

test("header at 800 px: the model picker shows the model's whole name, and nothing in the header leaves the window", async () => {
  const { page } = await openRecorded({ width: 800, height: 600 });
  const picker = page.locator('#model-picker');
  const fit = await picker.evaluate((select: HTMLSelectElement) => {
    const style = getComputedStyle(select);
    const context = document.createElement('canvas').getContext('2d')!;
    context.font = `${style.fontWeight} ${style.fontSize} ${style.fontFamily}`;
    const name = select.selectedOptions[0].text.split(' — ')[0];
    // The text starts after the left padding and must end before the drop-down arrow (about 20 px).
    return { name, needed: context.measureText(name).width + parseFloat(style.paddingLeft) + 20, width: select.clientWidth };
  });
  assert.equal(fit.name, 'restart-shapes-64 (built-in)');
  assert.ok(fit.needed <= fit.width, `"${fit.name}" needs ${Math.round(fit.needed)} px, the picker has ${fit.width}`);
  assert.match((await picker.getAttribute('title')) ?? '', /^restart-shapes-64/, 'the full label on hover');
  for (const box of await page.locator('header > *').evaluateAll((items) => items.map((e) => e.getBoundingClientRect().toJSON()))) {
    assert.ok(box.right <= 800 && box.left >= 0, `a header item at x=${Math.round(box.left)}..${Math.round(box.right)}`);
  }
  await page.close();
});
