// End to end in a real browser against the local mode: the Compare view runs a 2x2 grid (sampler x
// steps) and shows four labelled cells with their NFE, exports CSV/JSON/PNG as downloads and opens
// a cell in the Generate view; the Explore view runs a small guidance sweep and shows the results
// table and the plot. Uses the embedded model unless E2E_MODEL names another model folder.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { SCREENSHOTS } from './helpers/browser.ts';
import { download, e2eApp, fillFields, samplerAxis, tickSamplers } from './helpers/e2e-app.ts';

const PROMPT = 'a red circle on a blue background';
const app = e2eApp({}, { acceptDownloads: true });

const openApp = () => app.open();

test('compare: a 2x2 sampler x steps grid with labelled cells, NFE, exports, and a cell opened in Generate', async () => {
  const page = await openApp();
  await fillFields(page, { Prompt: PROMPT, Seed: '9', 'CFG scale': '5' });
  await page.getByRole('tab', { name: 'Compare' }).click();
  await page.getByText(`“${PROMPT}” · seed 9 · CFG 5`).waitFor();

  await samplerAxis(page, ['Euler', 'Heun']);
  await page.getByLabel('Y axis').selectOption('steps');
  await page.getByLabel('Y values').fill('2, x');
  await page.getByText('"x" is not a number').waitFor();
  assert.ok(await page.getByRole('button', { name: 'Run grid' }).isDisabled(), 'an invalid axis cannot run');
  await page.getByLabel('Y values').fill('2, 3');
  await page.getByText('4 cells, one image each').waitFor();

  const galleryBefore = (await page.getByRole('tab', { name: 'Gallery' }).textContent()) ?? '';
  await page.getByRole('button', { name: 'Run grid' }).click();
  await page.getByRole('button', { name: 'Export CSV' }).waitFor({ timeout: 180_000 });

  const grid = page.getByRole('table', { name: 'Comparison grid' });
  assert.deepEqual(await grid.getByRole('columnheader').allTextContents(), ['Euler', 'Heun'], "the UI's labels");
  assert.deepEqual(await grid.getByRole('rowheader').allTextContents(), ['2 steps', '3 steps']);
  const nfe: Record<string, string> = {};
  for (const x of ['Euler', 'Heun']) {
    for (const y of ['2 steps', '3 steps']) {
      const image = grid.getByAltText(`Cell ${x} / ${y}`);
      await image.waitFor();
      const caption = await grid
        .getByRole('cell')
        .filter({ has: page.getByAltText(`Cell ${x} / ${y}`) })
        .textContent();
      assert.match(caption ?? '', /NFE \d+ · \d+\.\d\d s/, `${x} / ${y}`);
      nfe[`${x} / ${y}`] = /NFE (\d+)/.exec(caption ?? '')?.[1] ?? '';
    }
  }
  assert.deepEqual(nfe, {
    'Euler / 2 steps': '2',
    'Euler / 3 steps': '3',
    'Heun / 2 steps': '3',
    'Heun / 3 steps': '5',
  });
  assert.notEqual(await page.getByRole('tab', { name: 'Gallery' }).textContent(), galleryBefore, 'the gallery got the grid images');

  const csv = await download(page, 'Export CSV');
  assert.match(csv.name, /\.csv$/);
  const lines = csv.bytes.toString('utf8').trim().split('\n');
  const settings = [
    'clip_skip,variation_seed,variation_seed_strength,seed_resize_from_w,seed_resize_from_h',
    'eta,sigma_noise,schedule_min_sigma,schedule_max_sigma,schedule_rho,rng',
  ].join(',');
  assert.equal(lines[0], `x,y,x_label,y_label,sampler,steps,cfg_scale,seed,nfe,seconds,${settings}`);
  assert.equal(lines.length, 5);
  assert.match(lines[1], /^0,0,sampler euler,steps 2,euler,2,5,9,2,/);

  const json = JSON.parse((await download(page, 'Export JSON')).bytes.toString('utf8'));
  assert.equal(json.cells.length, 4);
  assert.deepEqual(json.request.y, { kind: 'steps', values: [2, 3] });
  assert.ok(
    json.cells.every((c: { seed: number; parameters: string; id: string }) => c.seed === 9 && c.parameters.includes(PROMPT) && c.id),
  );

  await page.screenshot({ path: join(SCREENSHOTS, 'compare.png'), fullPage: true });
  const png = await download(page, 'Export PNG');
  assert.match(png.name, /\.png$/);
  assert.deepEqual([...png.bytes.subarray(0, 8)], [137, 80, 78, 71, 13, 10, 26, 10]);
  assert.ok(png.bytes.readUInt32BE(16) > 200 && png.bytes.readUInt32BE(20) > 200, 'a labelled grid, not one image');

  await grid.getByAltText('Cell Heun / 3 steps').click();
  await page.getByRole('tab', { name: 'Generate', selected: true }).waitFor();
  await page.waitForFunction(() => (document.getElementById('sampler') as HTMLSelectElement | null)?.value === 'heun');
  assert.equal(await page.getByLabel('Steps').inputValue(), '3');
  assert.equal(await page.getByLabel('Seed', { exact: true }).inputValue(), '9');
  await page.close();
});

test('explore: a small guidance sweep fills the results table and the plot; CSV export', async () => {
  const page = await openApp();
  await page.getByLabel('Prompt', { exact: true }).fill(PROMPT);
  await page.getByRole('tab', { name: 'Explore' }).click();
  assert.equal(await page.getByLabel('Prompt', { exact: true }).inputValue(), PROMPT, 'the prompt comes from the Generate form');
  assert.equal(await page.getByLabel('CFG scales').inputValue(), '1, 2, 3, 5, 8');
  assert.equal(await page.getByLabel('Seeds per scale').inputValue(), '6');
  await tickSamplers(page, 'Samplers', ['Euler']);
  await fillFields(page, { Steps: '3', 'CFG scales': '1, 4, 8', 'Seeds per scale': '3', 'First seed': '5' });
  await page.getByRole('button', { name: 'Run sweep' }).click();
  await page.getByRole('button', { name: 'Export plot PNG' }).waitFor({ timeout: 180_000 });

  const rows = page.getByRole('table', { name: 'Sweep results' }).locator('tbody tr');
  assert.equal(await rows.count(), 3);
  for (const [i, cfg] of ['1', '4', '8'].entries()) {
    const cells = await rows.nth(i).locator('th, td').allTextContents();
    assert.equal(cells[0], 'Euler');
    assert.equal(cells[1], cfg);
    assert.equal(cells[2], '3', 'NFE');
    assert.match(cells[4], /^\d/, 'diversity');
    assert.match(cells[5], /^(n\/a|\d+%)$/, 'accuracy');
    // The embedded model's evaluator has real images of this prompt: FD to them next to the real-vs-real floor.
    assert.match(cells[6], /^(n\/a|[\d.]+ \(floor [\d.]+\))$/, 'FD to real images');
    assert.equal(await rows.nth(i).getByRole('img').count(), 3, 'one image per seed');
  }
  const plot = page.getByLabel('Guidance sweep plot');
  assert.ok((await plot.locator('canvas').count()) >= 1, 'uPlot drew the chart');
  assert.ok(await plot.getByText('Diversity vs CFG scale').isVisible());
  const accuracyCharts = await plot.getByText('Prompt accuracy vs CFG scale').count();
  const accuracyNote = await plot.getByText('prompt accuracy: not available for this prompt/model').count();
  assert.equal(accuracyCharts + accuracyNote, 1, 'either the accuracy chart or the note');
  const fdCharts = await plot.getByText('FD to real images vs CFG scale').count();
  const fdNote = await plot.getByText('FD to real images: not available for this prompt/model').count();
  assert.equal(fdCharts + fdNote, 1, 'either the FD chart or the note');
  if (!process.env.E2E_MODEL) assert.equal(fdCharts, 1, 'the embedded model has real images of the prompt');

  const csv = await download(page, 'Export CSV');
  const lines = csv.bytes.toString('utf8').trim().split('\n');
  assert.equal(lines[0], 'sampler,cfg_scale,nfe,seconds_per_image,diversity,accuracy,fd,fd_floor,feature_space,seeds');
  assert.equal(lines.length, 4);
  assert.match(lines[1], /^euler,1,3,/);
  assert.match(lines[1], /,5 6 7$/);
  const plotPng = await download(page, 'Export plot PNG');
  assert.deepEqual([...plotPng.bytes.subarray(0, 4)], [137, 80, 78, 71]);
  await page.screenshot({ path: join(SCREENSHOTS, 'explore.png'), fullPage: true });
  await page.close();
});
