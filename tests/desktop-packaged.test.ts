// The desktop app as electron-builder packages it (app.isPackaged), through the stand-in for Electron: no developer
// tools (the window's webPreferences and the View menu), and RESTART_STUDIO_ROOT ignored, so that the environment
// cannot point the window, with the app's IPC, at other HTML. Unpackaged, tests/desktop-wiring.test.ts.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FakeElectron } from './helpers/fake-electron.ts';
import { loadDesktopBundle, ROOT } from './helpers/desktop-bundle.ts';

const OUT = join(ROOT, '.tmp', `desktop-packaged-${process.pid}`);
const DATA = mkdtempSync(join(tmpdir(), 'restart-studio-desktop-packaged-'));
// What the environment would have the app load instead of its own page.
const OTHER_ROOT = mkdtempSync(join(tmpdir(), 'restart-studio-other-root-'));
const saved = { ...process.env };
let main: FakeElectron;

before(async () => {
  mkdirSync(join(OTHER_ROOT, 'renderer', 'dist'), { recursive: true });
  writeFileSync(join(OTHER_ROOT, 'renderer', 'dist', 'index.html'), '<p>other page</p>');
  writeFileSync(join(OTHER_ROOT, 'package.json'), JSON.stringify({ name: 'restart-studio' }));
  mkdirSync(OUT, { recursive: true });
  Object.assign(process.env, { RESTART_STUDIO_DATA: DATA, RESTART_STUDIO_ROOT: OTHER_ROOT, FAKE_ELECTRON_PACKAGED: '1' });
  main = await loadDesktopBundle('electron/desktop/main.ts', OUT, 'main.cjs');
  await main.ready;
  await new Promise((done) => setImmediate(done));
  assert.deepEqual(main.errors, []);
});

after(async () => {
  for (const l of main?.appListeners.get('window-all-closed') ?? []) l();
  await new Promise((done) => setTimeout(done, 50));
  for (const key of ['RESTART_STUDIO_DATA', 'RESTART_STUDIO_ROOT', 'FAKE_ELECTRON_PACKAGED']) {
    if (saved[key] === undefined) delete process.env[key];
    else process.env[key] = saved[key];
  }
  for (const dir of [OUT, DATA, OTHER_ROOT]) rmSync(dir, { recursive: true, force: true });
});

test('packaged: no developer tools in the window or the menu', () => {
  assert.equal(main.windows.length, 1);
  assert.equal(main.windows[0].options.webPreferences.devTools, false);
  const menu = JSON.stringify(main.menu);
  assert.doesNotMatch(menu, /viewMenu|toggleDevTools|reload/i, 'the default View menu holds Toggle Developer Tools');
  assert.match(menu, /"label":"View".*"zoomIn"/);
});

test('packaged: RESTART_STUDIO_ROOT is dropped, so the window shows the app page and the engine never sees it', async () => {
  assert.equal(process.env.RESTART_STUDIO_ROOT, undefined);
  const page = await main.protocolHandlers.get('studio')!(new Request('studio://app/index.html'));
  assert.equal(page.status, 200);
  assert.equal(await page.text(), readFileSync(join(ROOT, 'renderer', 'dist', 'index.html'), 'utf8'));
  assert.equal(main.forks.length, 1);
  assert.equal(main.forks[0].options.env.RESTART_STUDIO_ROOT, undefined);
});
