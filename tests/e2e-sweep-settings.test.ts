// End to end in a real browser (local mode, the end-to-end model): the Explore view's guidance sweep takes the
// Generate form's noise source and ENSD. The view says so, each sweep image's PNG carries A1111's "RNG: CPU" and
// "ENSD: 31337", and the JSON export's request has them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readTextChunks } from '../src-core/png/text-chunks.ts';
import { download, e2eApp, fillFields, imageBytes, tickSamplers } from './helpers/e2e-app.ts';

// E2E_STATIC serves another renderer build (e.g. one made before a change, to see a test fail).
const app = e2eApp({ staticDir: process.env.E2E_STATIC }, { acceptDownloads: true });

test("explore: the sweep uses the Generate form's noise source and ENSD, says so, and its PNGs carry them", async () => {
  const page = await app.open();
  await fillFields(page, { Prompt: 'a red circle on a blue background', 'Noise source': 'A1111 CPU' });
  await page.getByText('Eta noise seed delta (ENSD)', { exact: true }).click();
  await fillFields(page, { 'Eta noise seed delta': '31337' });

  await page.getByRole('tab', { name: 'Explore' }).click();
  await page.getByText('From the Generate view: Noise A1111 CPU · ENSD 31337', { exact: true }).waitFor();
  await tickSamplers(page, 'Samplers', ['Euler a']);
  await fillFields(page, { Steps: '2', 'CFG scales': '3', 'Seeds per scale': '2', 'First seed': '4' });
  await page.getByRole('button', { name: 'Run sweep' }).click();
  await page.getByRole('button', { name: 'Export JSON' }).waitFor({ timeout: 180_000 });

  for (const seed of [4, 5]) {
    const parameters = readTextChunks(await imageBytes(app, page, `Euler a, CFG 3, seed ${seed}`)).parameters ?? '';
    assert.match(parameters, /Sampler: Euler a, .*Seed: \d+, .*RNG: CPU/, `seed ${seed}`);
    assert.match(parameters, /, ENSD: 31337/, `seed ${seed}`);
  }
  const json = JSON.parse((await download(page, 'Export JSON')).bytes.toString('utf8'));
  assert.equal(json.request.noiseSource, 'torch-cpu');
  assert.equal(json.request.etaNoiseSeedDelta, 31337);
  await page.close();
});
