// generate() hands each batch's PNGs out while the next batch samples, in order, and a cancel or a failure
// still hands out every batch that finished.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decode } from 'fast-png';
import { DEFAULT_MODEL_DIR } from '../model/default-model.ts';
import { loadModel } from '../model/model.ts';
import { SamplingCancelled } from '../samplers/types.ts';
import { generate, type GeneratedImage } from './txt2img.ts';

const request = { prompt: 'a red circle on a blue background', seed: 11, steps: 4, count: 3, batchSize: 2 };

test("a batch's images arrive during the next batch's steps, in order, and match the result", async () => {
  const model = await loadModel(DEFAULT_MODEL_DIR);
  try {
    const events: string[] = [];
    const delivered: Array<Promise<void>> = [];
    const result = await generate(model, request, {
      onProgress: (p) => events.push(`step ${p.imagesDone / 2}.${p.evaluation}`),
      onBatch: (images) => events.push(`images ${images.map((i) => i.index).join(',')}`),
      onEncoding: (done) => delivered.push(done),
    });
    assert.equal(delivered.length, 3);
    await Promise.all(delivered);
    const batches = events.filter((e) => e.startsWith('images'));
    assert.deepEqual(batches, ['images 0,1', 'images 2,3', 'images 4,5']);
    // Batch 0's PNGs were made while batch 1 sampled: they came out before its last evaluation.
    assert.ok(events.indexOf('images 0,1') < events.indexOf('step 1.4'), events.join(' | '));
    assert.deepEqual(
      result.images.map((i) => [i.index, i.seed]),
      [0, 1, 2, 3, 4, 5].map((k) => [k, 11 + k]),
    );
    const single = await generate(model, { ...request, seed: 14, count: 1, batchSize: 1 });
    assert.deepEqual(decode(single.images[0].png).data, decode(result.images[3].png).data, 'image 3 is seed 14 on its own');
    assert.ok(result.timings.pngMs > 0 && result.timings.pngWaitMs >= 0 && result.timings.samplingMs > result.timings.unetMs);
  } finally {
    await model.dispose();
  }
});

test('a cancel during a batch still hands out the batches before it', async () => {
  const model = await loadModel(DEFAULT_MODEL_DIR);
  try {
    const controller = new AbortController();
    const got: GeneratedImage[] = [];
    const run = generate(model, request, {
      signal: controller.signal,
      onProgress: (p) => {
        if (p.imagesDone === 2 && p.evaluation === 2) controller.abort();
      },
      onBatch: (images) => got.push(...images),
    });
    await assert.rejects(run, SamplingCancelled);
    assert.deepEqual(
      got.map((i) => i.index),
      [0, 1],
    );
  } finally {
    await model.dispose();
  }
});

test('an error handing out a batch stops the run and is the error it ends with', async () => {
  const model = await loadModel(DEFAULT_MODEL_DIR);
  try {
    let batches = 0;
    const run = generate(model, request, {
      onBatch: () => {
        batches++;
        throw new Error('no space left for the gallery');
      },
    });
    await assert.rejects(run, /no space left for the gallery/);
    assert.ok(batches >= 1 && batches <= 2, `${batches} batches handed out before the run stopped`);
  } finally {
    await model.dispose();
  }
});
