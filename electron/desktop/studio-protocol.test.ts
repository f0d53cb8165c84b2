import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DESKTOP_CSP, studioProtocol } from './studio-protocol.ts';

test('studio://app: gallery PNGs by id and the renderer folder, each with the desktop CSP; nothing else is read', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'studio-protocol-'));
  try {
    const dist = join(dir, 'dist');
    mkdirSync(join(dist, 'assets'), { recursive: true });
    writeFileSync(join(dist, 'index.html'), '<!doctype html>');
    writeFileSync(join(dist, 'assets', 'app.js'), 'export {}');
    writeFileSync(join(dir, 'secret.txt'), 'secret');
    const asked: string[] = [];
    const fetched: string[] = [];
    const handle = studioProtocol({
      rendererDir: dist,
      readGallery: (id) => (asked.push(id), id === 'a b.png' ? Buffer.from([137, 80, 78, 71]) : undefined),
      fetchFile: async (url) => {
        fetched.push(fileURLToPath(url));
        return new Response(readFileSync(fileURLToPath(url)), { headers: { 'content-type': 'text/javascript' } });
      },
    });

    const png = await handle(new Request('studio://app/gallery/a%20b.png'));
    assert.equal(png.status, 200);
    assert.equal(png.headers.get('content-type'), 'image/png');
    assert.equal(png.headers.get('content-security-policy'), DESKTOP_CSP);
    assert.deepEqual([...new Uint8Array(await png.arrayBuffer())], [137, 80, 78, 71]);

    const root = await handle(new Request('studio://app/'));
    const js = await handle(new Request('studio://app/assets/app.js'));
    assert.equal(js.headers.get('content-type'), 'text/javascript');
    assert.equal(js.headers.get('content-security-policy'), DESKTOP_CSP);
    assert.equal(root.headers.get('content-security-policy'), DESKTOP_CSP);
    assert.deepEqual(fetched, [join(dist, 'index.html'), join(dist, 'assets', 'app.js')]);

    for (const url of ['studio://app/%2e%2e/secret.txt', 'studio://app/assets/..%2f..%2fsecret.txt', 'studio://elsewhere/index.html'])
      assert.equal((await handle(new Request(url))).status, 404, url);
    assert.ok(
      fetched.every((f) => f.startsWith(dist + sep)),
      `nothing outside the renderer folder is read: ${fetched.join(', ')}`,
    );
    assert.deepEqual(asked, ['a b.png']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
