// A disk that fills up during a job, through the server and the engine process: the job is reported failed once,
// with the images saved before, which stay in the gallery; and the engine stops the job at once, so that the next one
// runs without waiting for images that could not be saved.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_MODEL_DIR } from '../src-core/model/default-model.ts';
import { mountTmpfs } from './helpers/scratch-mount.ts';
import { startStudio, TestClient, wsUrl } from './helpers/studio.ts';

test('a full disk fails the job once with what was saved, and the engine stops it', async (t) => {
  // Room for the data folder's index and settings and a few small PNGs (a tmpfs counts whole 4 KiB pages).
  const mount = mountTmpfs(64 * 1024);
  if ('skipReason' in mount) return t.skip(mount.skipReason);
  const studio = await startStudio({ model: DEFAULT_MODEL_DIR, dataDir: mount.dir });
  const client = await TestClient.connect(wsUrl(studio.server));
  try {
    // 100 images of the built-in model, 40 steps each: far more than the disk holds, and tens of seconds of work.
    const started = performance.now();
    const { jobId } = await client.call('job.generate', { prompt: 'a red circle', seed: 1, steps: 40, count: 100 });
    const failed = await client.waitFor('job.failed', (f) => f.jobId === jobId, 120_000);
    const failedAfter = performance.now() - started;
    assert.match(failed.error, /generated but could not be saved: .*disk is full/);
    assert.equal(failed.cancelled, false);
    const saved: Array<{ id: string }> = failed.entries ?? [];
    assert.ok(saved.length >= 1, 'images were saved before the disk filled up');
    const listed = await client.call('gallery.list', {});
    assert.deepEqual(listed.map((e) => e.id).sort(), saved.map((e) => e.id).sort(), 'the gallery holds what the failure lists');

    // The next job runs right away: the engine stopped the first, whose remaining images would take tens of seconds.
    const next = await client.call('job.generate', { prompt: 'a blue square', seed: 2, steps: 2, count: 1 });
    const nextStarted = performance.now();
    const perImage = failedAfter / saved.length;
    t.diagnostic(`${saved.length} images saved in ${failedAfter.toFixed(0)} ms: ${perImage.toFixed(0)} ms per image, start included`);
    await Promise.race([
      client.waitFor('job.done', (d) => d.jobId === next.jobId, 60_000),
      client.waitFor('job.failed', (f) => f.jobId === next.jobId, 60_000),
    ]);
    const nextMs = performance.now() - nextStarted;
    t.diagnostic(`the next job ended ${nextMs.toFixed(0)} ms after it was asked for`);
    assert.ok(nextMs < 10_000, `the next job waited ${nextMs.toFixed(0)} ms: the first one was not stopped`);
    const aboutFirst = client.events.filter((e) => (e.event === 'job.failed' || e.event === 'job.done') && e.data.jobId === jobId);
    assert.equal(aboutFirst.length, 1, 'the first job ended once, as failed');
  } finally {
    client.close();
    await studio.stop();
    mount.unmount();
  }
});
