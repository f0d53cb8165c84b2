// End to end in a real browser (local mode, the end-to-end model): A1111's schedule settings folded under the schedule.
// A max sigma and rho make the PNG carry "Schedule max sigma" and "Schedule rho" and change the image; dropping that PNG
// back fills and unfolds them, and a PNG made without them empties them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { SCREENSHOTS } from './helpers/browser.ts';
import { dropFile, e2eApp, fillFields, generateOne } from './helpers/e2e-app.ts';

// E2E_STATIC serves another renderer build (e.g. one made before a change, to see a test fail).
const app = e2eApp({ staticDir: process.env.E2E_STATIC });

test('schedule settings: the PNG carries them, the image changes, a dropped PNG brings them back or empties them', async () => {
  const page = await app.open();
  await fillFields(page, { Prompt: 'a red circle on a blue background', Seed: '7', Steps: '4' });
  const max = page.getByLabel('Schedule max sigma', { exact: true }),
    rho = page.getByLabel('Schedule rho', { exact: true });
  assert.equal(await max.isVisible(), false, 'folded while off');
  const plain = await generateOne(app, page);
  assert.doesNotMatch(plain.parameters, /Schedule (max sigma|rho)/);

  await page.getByText('Schedule settings', { exact: true }).click();
  await fillFields(page, { 'Schedule max sigma': '6', 'Schedule rho': '4' });
  await page.getByText('Schedule settings (2 set)', { exact: true }).waitFor();
  await page.screenshot({ path: join(SCREENSHOTS, 'generate-schedule-settings.png'), fullPage: true });
  const ranged = await generateOne(app, page);
  assert.match(ranged.parameters, /Schedule max sigma: 6, Schedule rho: 4/);
  assert.notDeepEqual(ranged.png, plain.png);

  await page.reload();
  await fillFields(page, { 'Schedule max sigma': '', 'Schedule rho': '' });
  await dropFile(page, 'ranged.png', ranged.png);
  await page.waitForFunction(() => (document.getElementById('schedule-rho') as HTMLInputElement | null)?.value === '4');
  assert.equal(await max.inputValue(), '6');
  assert.equal(await rho.isVisible(), true, 'unfolded by the PNG');
  await dropFile(page, 'plain.png', plain.png);
  await page.waitForFunction(() => (document.getElementById('schedule-rho') as HTMLInputElement | null)?.value === '');
  assert.equal(await max.inputValue(), '');
  await page.close();
});
