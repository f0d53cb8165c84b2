// The local mode end to end on a real engine process (tiny SD-interface model): contract calls,
// jobs with progress, the gallery, crash isolation, and the server's security rules.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decode } from 'fast-png';
import { modelFolder } from './helpers/model-folders.ts';
import { startStudio, TestClient, withStudio, wsUrl } from './helpers/studio.ts';

test('contract calls, a job with progress, and the result in the gallery', async () => {
  await withStudio(modelFolder('tiny-sd-eps-int64'), async (studio, client) => {
    const info = await client.call('app.info', {});
    assert.equal(info.model?.name, 'tiny-sd-eps-int64');
    assert.equal(info.model?.width, 32);
    assert.deepEqual(await client.call('prompt.count', { prompt: 'a red circle' }), { tokens: 3, max: 75 });
    // Prompt editing: the longest scheduled text for the steps given (A1111's counter); past the steps, only the first.
    const edit = '[a red circle:a red circle on a blue square:5]';
    assert.equal((await client.call('prompt.count', { prompt: edit, steps: 20 })).tokens, 7);
    assert.equal((await client.call('prompt.count', { prompt: edit, steps: 3 })).tokens, 3);
    await assert.rejects(client.call('prompt.count', { prompt: edit, steps: 0 }), /steps/);
    // AND: the prompt's longest part; the negative prompt's counter reads AND as a word.
    assert.equal((await client.call('prompt.count', { prompt: 'blurry AND ugly' })).tokens, 1);
    assert.equal((await client.call('prompt.count', { prompt: 'blurry AND ugly', negative: true })).tokens, 3);
    assert.equal((await client.call('plan.describe', { sampler: 'heun', schedule: 'karras', steps: 10, cfgScale: 7 })).evaluations, 19);
    await assert.rejects(
      client.call('plan.describe', {
        sampler: 'restart',
        schedule: 'karras',
        steps: 3,
        cfgScale: 7,
        restart: { segments: [[3, 1, 0.001, 0.5]] },
      }),
      /snaps to sigma 0/,
    );

    const done = client.waitFor('job.done');
    const { jobId } = await client.call('job.generate', { prompt: 'a red circle', seed: 5, steps: 4, count: 2 });
    const result = await done;
    assert.equal(result.jobId, jobId);
    assert.equal(result.entries.length, 2);
    assert.deepEqual(
      result.entries.map((e) => e.seed),
      [5, 6],
    );
    const progress = client.events.filter((e) => e.event === 'job.progress').map((e) => e.data.evaluation);
    assert.ok(progress.includes(4), 'progress reached the last evaluation');
    // A preview comes with the progress of its moment (one engine event, two for the window): the step it shows.
    const previews = client.events.flatMap((e, i) => (e.event === 'job.preview' ? [i] : []));
    assert.ok(previews.length >= 1, 'a preview was sent');
    for (const i of previews) {
      const before = client.events[i - 1];
      assert.equal(before.event, 'job.progress');
      assert.ok(before.data.jobId === jobId && before.data.step >= 1, 'its progress names its step');
    }
    const res = await fetch(new URL(result.entries[0].url, studio.server.url));
    assert.equal(res.status, 200);
    assert.equal(decode(new Uint8Array(await res.arrayBuffer())).width, 32);
    const listed = await client.call('gallery.list', {});
    assert.deepEqual(
      listed.map((e) => e.seed),
      [6, 5],
      'newest first',
    );
    assert.deepEqual(await client.call('gallery.delete', { id: listed[0].id }), { deleted: true });
    assert.equal((await client.call('gallery.list', {})).length, 1);
  });
});

test('bad payloads get specific errors and the next valid request still succeeds', async () => {
  await withStudio(modelFolder('tiny-sd-eps-int64'), async (studio, client) => {
    await assert.rejects(
      client.raw({ method: 'job.generate', params: { prompt: 'x', seed: 1, steps: -4 } }),
      /invalid job.generate request: steps: Too small/,
    );
    await assert.rejects(client.raw({ method: 'job.generate', params: { prompt: 7, seed: 1 } }), /prompt: Invalid input: expected string/);
    await assert.rejects(client.raw({ method: 'system.exec', params: {} }), /unknown method "system.exec"/);
    // A weight that only prompt editing's second text holds (from step 3 of 4): refused before queueing, as A1111
    // refuses it; a job that never reaches that text runs.
    await assert.rejects(
      client.call('job.generate', { prompt: '(a:[1.2:1.2.3:3])', seed: 1, steps: 4 }),
      /prompt \(in "\(a:1\.2\.3\)", a text prompt editing makes\): emphasis weight "1\.2\.3" at character 4 is not a number/,
    );
    assert.deepEqual(await client.call('job.active', {}), []);
    const done = client.waitFor('job.done');
    await client.call('job.generate', { prompt: '(a:[1.2:1.2.3:5])', seed: 1, steps: 4 });
    await done;
    await assert.rejects(
      client.raw({ method: 'gallery.delete', params: { id: '../../etc/passwd' } }),
      /invalid gallery.delete request: id/,
    );
    client.ws.send('{not json');
    assert.equal((await client.call('app.info', {})).model?.name, 'tiny-sd-eps-int64');
  });
});

test('killing the engine mid-job fails that job, restarts the engine, and the next job succeeds', async () => {
  await withStudio(modelFolder('tiny-sd-eps-int64'), async (studio, client) => {
    const first = client.waitFor('job.done');
    await client.call('job.generate', { prompt: 'before', seed: 1, steps: 3 });
    await first;
    const pid = studio.service.engine.pid!;
    const failed = client.waitFor('job.failed');
    const ready = client.waitFor('engine.status', (s) => s.state === 'ready');
    // Long enough to be killed before its first image is saved: the tiny model's evaluations take well under a
    // millisecond, and progress comes with a preview at most every 50 ms, otherwise at most every 100 ms. Heun's 999
    // evaluations per image leave that window on a loaded machine (400 Euler steps did not always: image 2 was saved).
    const { jobId } = await client.call('job.generate', { prompt: 'doomed', seed: 2, steps: 500, sampler: 'heun', count: 16 });
    await client.waitFor('job.progress', (p) => p.jobId === jobId && p.evaluation >= 2);
    process.kill(pid, 'SIGKILL');
    const failure = await failed;
    assert.equal(failure.jobId, jobId);
    assert.match(failure.error, /engine stopped unexpectedly \(signal SIGKILL\)/);
    assert.ok(client.events.some((e) => e.event === 'engine.status' && e.data.state === 'crashed'));
    await ready;
    assert.notEqual(studio.service.engine.pid, pid);
    const after = client.waitFor('job.done');
    await client.call('job.generate', { prompt: 'after', seed: 3, steps: 3 });
    assert.equal((await after).entries.length, 1);
    assert.deepEqual(
      (await client.call('gallery.list', {})).map((e) => e.seed),
      [3, 1],
      'gallery intact',
    );
  });
});

test('cancel stops a running job and the engine takes the next one', async () => {
  await withStudio(modelFolder('tiny-sd-eps-int64'), async (studio, client) => {
    // Long enough to be cancelled mid-job (the tiny model's evaluations take well under a millisecond).
    const { jobId } = await client.call('job.generate', { prompt: 'long', seed: 1, steps: 400, count: 16 });
    await client.waitFor('job.progress', (p) => p.jobId === jobId && p.evaluation >= 1);
    const failed = client.waitFor('job.failed', (f) => f.jobId === jobId);
    assert.deepEqual(await client.call('job.cancel', { jobId }), { cancelled: true });
    assert.equal((await failed).cancelled, true);
    const done = client.waitFor('job.done');
    await client.call('job.generate', { prompt: 'next', seed: 2, steps: 2 });
    assert.equal((await done).entries.length, 1);
  });
});

test('security: other origins, missing tokens and paths outside the gallery are refused', async () => {
  const staticDir = mkdtempSync(join(tmpdir(), 'static-'));
  writeFileSync(join(staticDir, 'index.html'), '<!doctype html><title>t</title>');
  mkdirSync(join(staticDir, 'assets'));
  const studio = await startStudio({ model: modelFolder('tiny-sd-eps-int64'), token: 'secret-token', staticDir });
  try {
    const base = new URL(studio.server.url);
    assert.equal(base.hostname, '127.0.0.1', 'bound to loopback by default');
    assert.equal(base.searchParams.get('token'), 'secret-token');
    const ws = wsUrl(studio.server);
    await assert.rejects(TestClient.connect(ws.replace(/\?token=[^&]+/, '')), /HTTP 403/);
    await assert.rejects(TestClient.connect(ws, { origin: 'http://evil.example' }), /HTTP 403/);
    const ok = await TestClient.connect(ws, { origin: `http://${base.host}` });
    ok.close();
    const get = (path: string) => fetch(`http://${base.host}${path}${path.includes('?') ? '&' : '?'}token=secret-token`);
    assert.equal((await fetch(`http://${base.host}/`)).status, 401);
    const page = await get('/');
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-security-policy') ?? '', /script-src 'self'/);
    for (const path of [
      '/gallery/..%2Findex.json',
      '/gallery/../settings.json',
      '/..%2F..%2Fetc%2Fpasswd',
      '/%2e%2e/%2e%2e/etc/passwd',
      '/gallery/00001-1.png',
    ]) {
      assert.equal((await get(path)).status, 404, path);
    }
    assert.equal((await fetch(`http://${base.host}/?token=secret-token`, { method: 'POST' })).status, 405);
  } finally {
    await studio.stop();
  }
});

test('a non-loopback binding always gets a token', async () => {
  const studio = await startStudio({ model: modelFolder('tiny-sd-eps-int64'), host: '0.0.0.0' });
  try {
    assert.ok(studio.server.token && studio.server.token.length >= 24);
    assert.match(studio.server.url, /\?token=/);
  } finally {
    await studio.stop();
  }
});
