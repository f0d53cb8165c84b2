// img2img through the app's contract (issue 23): image.upload checks and keeps a source image, job.generate
// runs img2img from an upload or a gallery image (the bytes travel to the engine process beside the
// request), a Compare grid varies the denoising strength, and bad sources are refused in words.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { modelFolder } from './helpers/model-folders.ts';
import { withStudio } from './helpers/studio.ts';
import { oversizeProblem } from '../electron/server/message-limits.ts';

const INIT = readFileSync(join(import.meta.dirname, 'fixtures', 'img2img', 'inputs', 'init-64.png'));
const JPEG = readFileSync(join(import.meta.dirname, 'fixtures', 'img2img', 'inputs', 'photo.jpg'));

test('image.upload, img2img from the upload and from a gallery image, a denoising-strength grid', async () => {
  await withStudio(modelFolder('tiny-sd-eps-int64'), async (studio, client) => {
    const upload = await client.call('image.upload', { base64: INIT.toString('base64') });
    assert.match(upload.ref, /^upload:[0-9a-f]{64}\.png$/);
    assert.deepEqual({ f: upload.format, w: upload.width, h: upload.height }, { f: 'png', w: 64, h: 64 });
    assert.deepEqual(await client.call('image.upload', { base64: INIT.toString('base64') }), upload, 'the same bytes, the same ref');
    assert.deepEqual(readdirSync(join(studio.dataDir, 'inputs')), [upload.ref.slice('upload:'.length)]);
    const jpeg = await client.call('image.upload', { base64: JPEG.toString('base64') });
    assert.match(jpeg.ref, /\.jpg$/);

    const request = { prompt: 'a red circle', seed: 3, steps: 6, cfgScale: 5, initImage: upload.ref, strength: 0.5 };
    const done = client.waitFor('job.done');
    await client.call('job.generate', request);
    const first = await done;
    assert.equal(first.entries.length, 1);
    assert.equal(first.evaluations, 4, 'int(6 * 0.5) + 1 steps');
    assert.match(first.entries[0].parameters, /Denoising strength: 0\.5/);
    // The same from a gallery image: "send to img2img" names it by its gallery id.
    const fromGallery = client.waitFor('job.done');
    await client.call('job.generate', { ...request, initImage: `gallery:${first.entries[0].id}`, strength: 0.3 });
    assert.equal((await fromGallery).entries.length, 1);

    const gridDone = client.waitFor('grid.done');
    await client.call('job.grid', { base: request, x: { kind: 'strength', values: [0.2, 0.6, 1] } });
    const grid = await gridDone;
    assert.deepEqual(
      grid.cells.map((c) => c.xLabel),
      ['denoising 0.2', 'denoising 0.6', 'denoising 1'],
    );
    assert.deepEqual(
      grid.cells.map((c) => c.evaluations),
      [2, 4, 6],
    );
    // Hires fix's strength when the base has no source image.
    const hiresDone = client.waitFor('grid.done');
    await client.call('job.grid', {
      base: { prompt: 'a red circle', seed: 3, steps: 3, hires: { scale: 2, steps: 2 } },
      x: { kind: 'strength', values: [0.3, 0.9] },
    });
    const hires = await hiresDone;
    assert.deepEqual(
      hires.cells.map((c) => c.entry.width),
      [64, 64],
    );
    assert.match(hires.cells[1].entry.parameters, /Denoising strength: 0\.9, Hires upscale: 2, Hires steps: 2/);
  });
});

test('bad sources are refused in words, before any job is queued', async () => {
  await withStudio(modelFolder('tiny-sd-eps-int64'), async (studio, client) => {
    await assert.rejects(
      client.call('image.upload', { base64: Buffer.from('just some text').toString('base64') }),
      /that file cannot be an img2img source: this file is not an image; PNG, JPEG and WebP images are accepted/,
    );
    const huge = Buffer.from(INIT.subarray(0, 33));
    huge.writeUInt32BE(30_000, 16);
    await assert.rejects(
      client.call('image.upload', { base64: huge.toString('base64') }),
      /30000x64 .*at most 40 megapixels and 16384 pixels a side/,
    );
    const base = { prompt: 'x', seed: 1, steps: 3 };
    await assert.rejects(
      client.call('job.generate', { ...base, initImage: `upload:${'0'.repeat(64)}.png` }),
      /the img2img source image is no longer stored/,
    );
    await assert.rejects(client.call('job.generate', { ...base, initImage: 'gallery:missing.png' }), /no longer in the gallery/);
    await assert.rejects(
      client.call('job.generate', { ...base, initImage: 'file:/etc/passwd' }),
      /initImage: must be upload:<id>, gallery:<id> or file:<name>/,
    );
    await assert.rejects(client.call('job.generate', { ...base, initImage: 'file:x.png' }), /not an uploaded or gallery image/);
    await assert.rejects(
      client.call('job.grid', { base, x: { kind: 'strength', values: [0.5] } }),
      /a denoising-strength axis needs a source image \(img2img\) or hires fix/,
    );
    assert.deepEqual(await client.call('gallery.list', {}), []);
  });
  // image.upload may carry a whole file over the WebSocket; other methods stay at 1 MiB.
  const big = Buffer.from(`{"id":1,"method":"image.upload","params":{"base64":"${'A'.repeat(2 * 1024 * 1024)}"}}`);
  assert.equal(oversizeProblem(big), null);
  assert.match(
    oversizeProblem(Buffer.from(big.toString().replace('image.upload', 'job.generate'))) ?? '',
    /except png\.read and image\.upload/,
  );
});
