// Issue 14's defects in the local server, each as a regression test: DNS rebinding (Host and Origin
// allowlist, HTTP and WebSocket), message size and shape limits, bounded errors, gallery files
// served only as regular files with Cross-Origin-Resource-Policy.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { encodeRgbaPng } from '../src-core/png/encode.ts';
import { modelFolder } from './helpers/model-folders.ts';
import { getWithHost, TestClient, withStudio as withStudioOn, wsUrl, type Studio } from './helpers/studio.ts';

const withStudio = (run: (studio: Studio, client: TestClient) => Promise<void>) => withStudioOn(modelFolder('tiny-sd-eps-int64'), run);

async function oneImage(client: TestClient): Promise<string> {
  const done = client.waitFor('job.done');
  await client.call('job.generate', { prompt: 'a red circle', seed: 3, steps: 2 });
  return (await done).entries[0].id;
}

test('DNS rebinding: a foreign Host is refused over HTTP and WebSocket, loopback names are served', async () => {
  await withStudio(async (studio, client) => {
    const id = await oneImage(client);
    const port = new URL(studio.server.url).port;
    for (const host of [
      'evil.example',
      `evil.example:${port}`,
      `127.0.0.1.evil.example:${port}`,
      `127.0.0.1:${Number(port) + 1}`,
      '127.0.0.1',
    ]) {
      const res = await getWithHost(studio.server, `/gallery/${id}`, host);
      assert.equal(res.status, 421, `Host "${host}" must be refused`);
      assert.notEqual(res.body.subarray(1, 4).toString(), 'PNG', `Host "${host}" must not get the image`);
    }
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `LOCALHOST:${port}`]) {
      const res = await getWithHost(studio.server, `/gallery/${id}`, host);
      assert.equal(res.status, 200, `Host "${host}" is this server`);
      assert.equal(res.headers['cross-origin-resource-policy'], 'same-origin');
    }
    const ws = wsUrl(studio.server);
    // A rebinding page sends matching Host and Origin, both naming the attacker's domain.
    await assert.rejects(TestClient.connect(ws, { host: `evil.example:${port}`, origin: `http://evil.example:${port}` }), /HTTP 403/);
    await assert.rejects(TestClient.connect(ws, { host: `evil.example:${port}` }), /HTTP 403/);
    await assert.rejects(TestClient.connect(ws, { origin: `http://evil.example:${port}` }), /HTTP 403/);
    await assert.rejects(TestClient.connect(ws, { origin: `http://localhost:${Number(port) + 1}` }), /HTTP 403/);
    const ok = await TestClient.connect(ws, { host: `localhost:${port}`, origin: `http://localhost:${port}` });
    assert.ok((await ok.call('app.info', {})).model);
    ok.close();
  });
});

test('oversized, key-flooded and deeply nested requests get short, specific errors', async () => {
  await withStudio(async (_studio, client) => {
    // 3 MB of unknown keys: refused before parsing, without echoing them.
    const keys = Object.fromEntries(Array.from({ length: 200_000 }, (_, i) => [`k${i}`, 1]));
    const flood = JSON.stringify({ id: 901, method: 'job.generate', params: { prompt: 'x', seed: 1, ...keys } });
    const floodReply = await client.sendText(flood);
    assert.match(floodReply.error ?? '', /message too large \(\d+\.\d MiB\)/);
    assert.ok((floodReply.error ?? '').length < 300, 'the error is short');
    // The same flood under png.read's name, which may carry a large file: refused unparsed too, as it has no file.
    const pngFlood = JSON.stringify({ id: 903, method: 'png.read', params: { ...keys } });
    const pngFloodReply = await client.sendText(pngFlood);
    assert.match(pngFloodReply.error ?? '', /message too large \(\d+\.\d MiB\).*carrying only/);
    // Under the size cap but with thousands of keys: the count is refused, the keys are not listed.
    const some = Object.fromEntries(Array.from({ length: 5000 }, (_, i) => [`key${i}`, i]));
    await assert.rejects(client.raw({ method: 'job.generate', params: { prompt: 'x', seed: 1, ...some } }), (e: Error) => {
      assert.match(e.message, /more than 64 fields/);
      assert.ok(e.message.length < 300);
      return true;
    });
    // 100k-deep nesting: said in words, not "Maximum call stack size exceeded".
    const nested = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
    const deep = `{"id":902,"method":"job.generate","params":{"prompt":"x","seed":1,"restart":${nested}}}`;
    const deepReply = await client.sendText(deep);
    assert.match(deepReply.error ?? '', /nested too deeply/);
    // A few unknown keys are still named, so a client developer can fix them.
    await assert.rejects(client.raw({ method: 'job.generate', params: { prompt: 'x', seed: 1, stepz: 3 } }), /stepz/);
    assert.ok((await client.call('app.info', {})).model, 'the server still answers');
  });
});

test('gallery files are served only as regular files: a link in the images folder is not followed', async () => {
  await withStudio(async (studio, client) => {
    const id = await oneImage(client);
    const images = join(studio.dataDir, 'gallery', 'images');
    const secret = join(studio.dataDir, 'secret.txt');
    writeFileSync(secret, 'not for the browser');
    unlinkSync(join(images, id));
    symlinkSync(secret, join(images, id));
    const port = new URL(studio.server.url).port;
    const res = await getWithHost(studio.server, `/gallery/${id}`, `127.0.0.1:${port}`);
    assert.equal(res.status, 404);
    assert.doesNotMatch(res.body.toString(), /not for the browser/);
  });
});

/** The status line the server answers a raw WebSocket upgrade on `path` with. */
function upgradeStatus(server: Studio['server'], path: string, origin: string): Promise<string> {
  const { hostname, port } = new URL(server.url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () =>
      socket.write(
        `GET ${path} HTTP/1.1\r\nHost: ${hostname}:${port}\r\nOrigin: ${origin}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
      ),
    );
    socket.once('data', (data: Buffer) => {
      resolve(data.toString().split('\r\n')[0]);
      socket.destroy();
    });
    socket.once('error', reject);
  });
}

test('a path the URL parser refuses (`//`) gets 400 or 403, before or without the token, and the server stays up', async () => {
  // `GET //` is what a page's `new WebSocket('ws://127.0.0.1:PORT//')` sends: it used to end the server's process.
  await withStudioOn({ model: modelFolder('tiny-sd-eps-int64'), token: 'secret-token' }, async (studio, client) => {
    const port = new URL(studio.server.url).port;
    for (const path of ['//', '//?token=secret-token', '//:0/']) {
      const res = await getWithHost(studio.server, path, `127.0.0.1:${port}`);
      assert.equal(res.status, 400, path);
    }
    assert.equal(await upgradeStatus(studio.server, '//', 'http://evil.example'), 'HTTP/1.1 403 Forbidden');
    assert.equal(await upgradeStatus(studio.server, '//?token=secret-token', `http://127.0.0.1:${port}`), 'HTTP/1.1 403 Forbidden');
    assert.ok((await client.call('app.info', {})).model, 'the server still answers');
  });
});

test('a client that stops reading is disconnected once 4 MiB wait for it; the server and other clients go on', async () => {
  // A gallery of 20 entries with 19,000-character prompts: each gallery.list reply is about 400 KB.
  const dataDir = mkdtempSync(join(tmpdir(), 'studio-data-'));
  const images = join(dataDir, 'gallery', 'images');
  mkdirSync(images, { recursive: true });
  const pixels = new Uint8Array(8 * 8 * 4).fill(255);
  const parameters = `${'a long prompt '.repeat(1360)}\nSteps: 1, Sampler: Euler, CFG scale: 7, Seed: 1, Size: 8x8`;
  for (let i = 1; i <= 20; i++)
    writeFileSync(join(images, `${String(i).padStart(5, '0')}-1.png`), await encodeRgbaPng(pixels, 8, 8, { parameters }));
  const limit = 4 * 2 ** 20;
  await withStudioOn({ model: modelFolder('tiny-sd-eps-int64'), dataDir, maxUnsentBytes: limit }, async (studio, client) => {
    assert.equal((await client.call('gallery.list', {})).length, 20);
    const slow = await TestClient.connect(wsUrl(studio.server));
    const closed = new Promise<void>((resolve) => slow.ws.once('close', () => resolve()));
    // Stop reading: the kernel's buffers fill, then the server's queue for this client grows.
    const socket = (slow.ws as unknown as { _socket: Socket })._socket;
    socket.pause();
    let answered = 0;
    const replies = Array.from({ length: 200 }, () =>
      slow.call('gallery.list', {}).then(
        () => answered++,
        () => undefined,
      ),
    );
    // The server must not keep 80 MB of replies for it: it disconnects, and the client reads what was sent by then.
    await new Promise((resolve) => setTimeout(resolve, 3000));
    socket.resume();
    const outcome = await Promise.race([closed.then(() => 'closed'), Promise.all(replies).then(() => 'all answered')]);
    assert.equal(outcome, 'closed');
    assert.ok(answered < 200, `${answered} replies of 200 before the server let go`);
    assert.equal((await client.call('gallery.list', {})).length, 20, 'the other client is answered');
    // Pages of the list, newest first, for a gallery too large for one reply.
    const ids = (await client.call('gallery.list', {})).map((e) => e.id);
    assert.deepEqual(
      (await client.call('gallery.list', { offset: 5, limit: 10 })).map((e) => e.id),
      ids.slice(5, 15),
    );
    assert.deepEqual(await client.call('gallery.list', { offset: 20, limit: 10 }), []);
    await assert.rejects(client.call('gallery.list', { limit: 5000 }), /limit/);
  });
});
