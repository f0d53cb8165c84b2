// The desktop app's main process and preload as Electron runs them, without the Electron binary (these
// machines cannot download it; tests/electron.test.ts drives the real app where it is installed): both are
// bundled as scripts/build-electron.mjs bundles them, with 'electron' replaced by tests/helpers/fake-electron.ts,
// which records what they ask of Electron. Checked against Electron's security checklist: the window's
// isolation, navigation, new windows and webviews refused, IPC answered only for the app's own frame,
// deny-by-default permissions, and the studio:// protocol's files and Content-Security-Policy.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FakeElectron, FakeWindow } from './helpers/fake-electron.ts';
import { loadDesktopBundle } from './helpers/desktop-bundle.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
// Inside the project, so that modules left out of the bundles resolve from its node_modules, as from out/.
const OUT = join(ROOT, '.tmp', `desktop-wiring-${process.pid}`);
const DATA = mkdtempSync(join(tmpdir(), 'restart-studio-desktop-wiring-'));
const APP_PAGE = 'studio://app/index.html';

const load = (entry: string, name: string) => loadDesktopBundle(entry, OUT, name);

let main: FakeElectron;
let preload: FakeElectron;
let win: FakeWindow;
const savedData = process.env.RESTART_STUDIO_DATA;

before(async () => {
  mkdirSync(OUT, { recursive: true });
  process.env.RESTART_STUDIO_DATA = DATA;
  main = await load('electron/desktop/main.ts', 'main.cjs');
  await main.ready;
  await new Promise((done) => setImmediate(done));
  assert.deepEqual(main.errors, []);
  assert.equal(main.windows.length, 1, 'the app opens one window');
  win = main.windows[0];
  preload = await load('electron/desktop/preload.ts', 'preload.cjs');
});

after(async () => {
  for (const l of main?.appListeners.get('window-all-closed') ?? []) l();
  await new Promise((done) => setTimeout(done, 50));
  if (savedData === undefined) delete process.env.RESTART_STUDIO_DATA;
  else process.env.RESTART_STUDIO_DATA = savedData;
  rmSync(OUT, { recursive: true, force: true });
  rmSync(DATA, { recursive: true, force: true });
});

function prevented(listener: (...args: any[]) => void, ...args: unknown[]): boolean {
  let stopped = false;
  listener({ preventDefault: () => (stopped = true) }, ...args);
  return stopped;
}

test('the window: context isolation, sandbox, no Node, web security; on studio://app only', () => {
  const prefs = win.options.webPreferences;
  assert.equal(prefs.contextIsolation, true);
  assert.equal(prefs.sandbox, true);
  assert.equal(prefs.nodeIntegration, false);
  assert.equal(prefs.webSecurity, true);
  assert.equal(prefs.devTools, true, 'developer tools only where not packaged (tests/desktop-packaged.test.ts)');
  for (const risky of [
    'nodeIntegrationInWorker',
    'nodeIntegrationInSubFrames',
    'allowRunningInsecureContent',
    'experimentalFeatures',
    'webviewTag',
  ])
    assert.ok(!prefs[risky], `${risky} must stay off`);
  assert.equal(prefs.enableBlinkFeatures, undefined);
  assert.match(prefs.preload, /preload\.cjs$/);
  assert.equal(win.loaded, APP_PAGE);
  assert.deepEqual(main.privilegedSchemes, [{ scheme: 'studio', privileges: { standard: true, secure: true, supportFetchAPI: true } }]);
});

test('navigation away, new windows and webviews are refused', () => {
  const navigate = win.listeners.get('will-navigate')!;
  for (const url of [
    'https://example.com/',
    'http://127.0.0.1:7860/',
    'file:///etc/passwd',
    'studio://app.evil.example/',
    'studio://appx/index.html',
    'studio://other/index.html',
    'javascript:alert(1)',
    'mailto:someone@example.com',
    'ms-msdt:/id PCWDiagnostic',
  ])
    assert.equal(prevented(navigate, url), true, `navigation to ${url} must be refused`);
  assert.equal(prevented(navigate, APP_PAGE), false);
  assert.deepEqual(win.windowOpenHandler!({ url: 'https://example.com/' }), { action: 'deny' });
  assert.deepEqual(win.windowOpenHandler!({ url: APP_PAGE }), { action: 'deny' });
  const contents = new Map<string, (...args: any[]) => void>();
  for (const l of main.appListeners.get('web-contents-created') ?? [])
    l({}, { on: (e: string, f: (...args: any[]) => void) => contents.set(e, f) });
  assert.equal(prevented(contents.get('will-attach-webview')!, {}, {}), true, 'webviews must be refused');
});

test('web permissions: the app gets a clipboard write, nothing else; no other origin gets anything', () => {
  const { permissionRequest, permissionCheck, devicePermission } = main.session;
  assert.ok(
    permissionRequest && permissionCheck && devicePermission,
    "Electron grants every permission unless the session's handlers say otherwise",
  );
  const request = (permission: string, requestingUrl: string) => {
    let granted: boolean | undefined;
    permissionRequest(win.webContents, permission, (g: boolean) => (granted = g), { requestingUrl, isMainFrame: true });
    assert.notEqual(granted, undefined, `the ${permission} request must be answered`);
    return granted;
  };
  const refused = [
    'media',
    'clipboard-read',
    'geolocation',
    'notifications',
    'openExternal',
    'midi',
    'midiSysex',
    'pointerLock',
    'keyboardLock',
    'fullscreen',
    'display-capture',
    'idle-detection',
    'window-management',
    'fileSystem',
    'storage-access',
    'speaker-selection',
    'unknown',
  ];
  for (const permission of refused) {
    assert.equal(request(permission, APP_PAGE), false, `${permission} must be refused`);
    assert.equal(permissionCheck(win.webContents, permission, 'studio://app', {}), false, `${permission} check must fail`);
  }
  assert.equal(request('clipboard-sanitized-write', APP_PAGE), true);
  assert.equal(permissionCheck(win.webContents, 'clipboard-sanitized-write', 'studio://app', {}), true);
  for (const other of ['https://evil.example/', 'file:///tmp/x.html', 'studio://app.evil.example/', '']) {
    assert.equal(request('clipboard-sanitized-write', other), false, other);
    assert.equal(permissionCheck(win.webContents, 'clipboard-sanitized-write', other, {}), false, other);
  }
  assert.equal(devicePermission({ deviceType: 'usb', origin: 'studio://app' }), false);
});

/** The CSP header's directives: name -> sources. */
function directives(policy: string | null): Map<string, string[]> {
  assert.ok(policy, 'every studio:// response must carry a Content-Security-Policy header');
  return new Map(
    policy
      .split(';')
      .map((d) => d.trim().split(/\s+/))
      .filter((d) => d[0])
      .map(([name, ...sources]) => [name, sources]),
  );
}

test("studio:// serves the renderer under the desktop's CSP: no connections but its own origin, no embeds, base, forms or frames", async () => {
  const handle = main.protocolHandlers.get('studio')!;
  const page = await handle(new Request(APP_PAGE));
  assert.equal(page.status, 200);
  assert.match(await page.text(), /<div id="app">/);
  const csp = directives(page.headers.get('content-security-policy'));
  // The renderer talks through the preload bridge: a WebSocket would only be a way out for injected script.
  assert.deepEqual(csp.get('connect-src'), ["'self'"]);
  assert.deepEqual(csp.get('script-src'), ["'self'"]);
  for (const name of ['object-src', 'base-uri', 'form-action', 'frame-src', 'frame-ancestors'])
    assert.deepEqual(csp.get(name), ["'none'"], name);
  assert.equal(page.headers.get('x-content-type-options'), 'nosniff');

  const script = await handle(new Request('studio://app/assets/' + 'x'.repeat(3)));
  assert.equal(script.status, 404, 'a file that is not there');
  assert.ok(script.headers.get('content-security-policy'));
});

test('studio:// serves nothing outside the built renderer and the gallery, and survives malformed addresses', async () => {
  const handle = main.protocolHandlers.get('studio')!;
  for (const url of [
    'studio://app/%2e%2e/%2e%2e/package.json',
    'studio://app/..%2f..%2fpackage.json',
    'studio://app/%2E%2E%5C%2E%2E%5Cpackage.json',
    'studio://app/gallery/..%2f..%2fsettings.json',
    'studio://app/gallery/missing.png',
    'studio://other/index.html',
    'studio://app/%E0%A4%A',
    'studio://app/gallery/%E0%A4%A',
  ]) {
    const response = await handle(new Request(url));
    assert.equal(response.status, 404, url);
  }
});

test("IPC is answered for the app window's top frame on studio://app only, with validated calls", async () => {
  const call = main.ipcHandlers.get('studio:call')!;
  const event = (frame: { url: string; parent: unknown } | null, sender: unknown = win.webContents) => ({ sender, senderFrame: frame });
  const info = await call(event({ url: APP_PAGE, parent: null }), 'app.info', {});
  assert.equal(info.mode, 'electron');
  const refused: [string, ReturnType<typeof event>][] = [
    ['a subframe', event({ url: APP_PAGE, parent: {} })],
    ['another page', event({ url: 'https://evil.example/', parent: null })],
    ['a look-alike origin', event({ url: 'studio://app.evil.example/', parent: null })],
    ['a frame that went away', event(null)],
    ['another webContents', event({ url: APP_PAGE, parent: null }, { id: 99 })],
  ];
  for (const [what, e] of refused) await assert.rejects(call(e, 'app.info', {}), /refused/, what);
  await assert.rejects(call(event({ url: APP_PAGE, parent: null }), 'no.such.method', {}));
  await assert.rejects(call(event({ url: APP_PAGE, parent: null }), 'gallery.delete', { id: 7 }));
});

test('the engine runs in a utilityProcess: the bundled host, no arguments, no inspector', () => {
  assert.equal(main.forks.length, 1);
  const [{ script, options }] = main.forks;
  assert.match(script, /engine-host\.cjs$/);
  assert.equal(options.execArgv, undefined);
  assert.equal(options.serviceName, 'Restart Studio engine');
});

test('the preload exposes one bridge: contract calls over studio:call, events from studio:event', async () => {
  assert.deepEqual([...preload.exposed.keys()], ['studioBridge']);
  const bridge = preload.exposed.get('studioBridge');
  assert.deepEqual(Object.keys(bridge).sort(), ['call', 'on']);
  await bridge.call('app.info', {});
  assert.deepEqual(preload.invoked, [['studio:call', 'app.info', {}]]);
  const got: unknown[] = [];
  const off = bridge.on('job.progress', (data: unknown) => got.push(data));
  assert.deepEqual([...preload.ipcRendererListeners.keys()], ['studio:event']);
  const [listener] = preload.ipcRendererListeners.get('studio:event')!;
  listener({ sender: {} }, 'job.progress', 1);
  listener({ sender: {} }, 'job.done', 2);
  assert.deepEqual(got, [1]);
  off();
  assert.deepEqual(preload.ipcRendererListeners.get('studio:event'), []);
});
