// The desktop app itself, through Playwright's Electron driver: window, isolation, navigation and
// window blocking, CSP, and one image end to end. Runs where an Electron binary is installed (an
// ordinary online `npm install`); where it is not (these offline machines), it reports itself skipped
// with the reason.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { _electron } from 'playwright-core';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

function electronBinary(): { path?: string; reason?: string } {
  try {
    const path = createRequire(import.meta.url)('electron') as unknown as string;
    return existsSync(path) ? { path } : { reason: `the Electron binary ${path} is missing` };
  } catch (error) {
    return {
      reason: `no Electron binary installed (${(error as Error).message.split('\n')[0]}); npm could not download it on this machine`,
    };
  }
}

const electron = electronBinary();

test(
  'desktop app: isolated renderer, blocked navigation and windows, CSP, one image',
  { skip: electron.reason ?? false, timeout: 240_000 },
  async () => {
    if (!existsSync(join(ROOT, 'out', 'main.cjs'))) {
      const built = spawnSync(process.execPath, ['scripts/build-electron.mjs'], { cwd: ROOT, encoding: 'utf8' });
      assert.equal(built.status, 0, built.stderr);
    }
    const app = await _electron.launch({
      executablePath: electron.path!,
      args: [join(ROOT, 'out', 'main.cjs'), ...(process.platform === 'linux' ? ['--no-sandbox'] : [])],
      env: { ...process.env, RESTART_STUDIO_DATA: mkdtempSync(join(tmpdir(), 'restart-studio-electron-')) } as Record<string, string>,
    });
    try {
      const page = await app.firstWindow();
      page.setDefaultTimeout(60_000);
      await page.locator('button.primary:not([disabled])', { hasText: 'Generate' }).waitFor();
      assert.equal(await page.title(), 'Restart Studio');
      assert.ok(page.url().startsWith('studio://app/'), page.url());

      // The renderer sees nothing of Node; the preload's one API is there.
      assert.equal(await page.evaluate(() => typeof (globalThis as { require?: unknown }).require), 'undefined');
      assert.equal(await page.evaluate(() => typeof (globalThis as { process?: unknown }).process), 'undefined');

      // CSP: the page's policy is in force (an inline script is refused).
      const inlineRan = await page.evaluate(() => {
        const s = document.createElement('script');
        s.textContent = 'window.__inline = 1';
        document.head.append(s);
        return (window as { __inline?: number }).__inline === 1;
      });
      assert.equal(inlineRan, false, 'inline scripts must be blocked by the CSP');

      // No new windows, no navigation away from the app.
      assert.equal(await page.evaluate(() => window.open('https://example.com/') === null), true);
      await page
        .evaluate(() => {
          location.href = 'https://example.com/';
        })
        .catch(() => undefined);
      await page.waitForTimeout(500);
      assert.ok(page.url().startsWith('studio://app/'), `navigated to ${page.url()}`);
      assert.equal(app.windows().length, 1);

      // One image end to end through IPC and the utilityProcess engine.
      await page.getByLabel('Prompt', { exact: true }).fill('a red circle on a blue background');
      await page.getByRole('button', { name: 'Generate', exact: true }).click();
      await page.getByAltText('Generated image 1').waitFor();
      assert.match((await page.getByLabel('Parameters').first().textContent()) ?? '', /a red circle on a blue background/);
    } finally {
      await app.close();
    }
  },
);
