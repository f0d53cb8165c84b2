// The SDE samplers' Brownian trees answered by the engine's noise thread (noise-thread.ts intervalNoise): the same
// values as the main thread's trees, asked ahead or not, ahead for another interval, or after the thread died; whole
// images with DPM++ 2M SDE and DPM++ SDE (with hires fix) the same bytes either way.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { brownianNoise, sourceRandn } from '../src-core/noise/brownian-noise.ts';
import { NOISE_SOURCES } from '../src-core/noise/index.ts';
import {
  brownianNoiseOf,
  drawNoiseOnMainThread,
  noiseThreadRunning,
  startNoiseThread,
  stopNoiseThreadForTest,
} from '../src-core/noise/noise-thread.ts';
import { loadModel } from '../src-core/model/model.ts';
import { DEFAULT_MODEL_DIR } from '../src-core/model/default-model.ts';
import { generate } from '../src-core/pipeline/txt2img.ts';

const SPAN = { min: Math.fround(0.0291675), max: Math.fround(14.614642) };
const STEPS: Array<[number, number]> = [
  [14.614642, 7.9],
  [7.9, 4.02],
  [4.02, 1.91],
  [1.91, 0.83],
  [0.83, 0.321],
];

test('the thread answers what the main thread computes, for every source, asked ahead or not', async () => {
  await startNoiseThread();
  assert.ok(noiseThreadRunning(), 'the thread started');
  for (const source of Object.keys(NOISE_SOURCES)) {
    const seeds = [5, 6];
    const expected = brownianNoise(seeds, 37, SPAN, sourceRandn(source));
    const noise = brownianNoiseOf(source, seeds, 37, SPAN);
    const got: Float64Array[] = [];
    got.push(noise(...STEPS[0])); // not asked ahead
    noise.prefetch!(...STEPS[1]);
    noise.prefetch!(...STEPS[2]); // a second prefetch before the answer is taken asks for nothing more
    got.push(noise(...STEPS[1]));
    noise.prefetch!(...STEPS[3]);
    got.push(noise(...STEPS[2])); // asked ahead for another interval: that answer is dropped
    got.push(noise(...STEPS[3]));
    noise.prefetch!(...STEPS[4]);
    got.push(noise(...STEPS[4]));
    got.forEach((draw, i) => assert.deepEqual(draw, expected(...STEPS[i]), `${source}, step ${i}`));
    assert.notEqual(got[0].buffer, got[1].buffer, 'each answer is an array of its own');
  }
  assert.throws(() => brownianNoiseOf('quantum', [1], 8, SPAN), /unknown noise source "quantum"/);
});

test('DPM++ 2M SDE and DPM++ SDE jobs (hires fix too) give the same PNGs with their trees in the thread or here', async () => {
  await startNoiseThread();
  assert.ok(noiseThreadRunning(), 'the thread runs');
  const model = await loadModel(DEFAULT_MODEL_DIR, { provider: 'cpu' });
  try {
    const base = { prompt: 'a red circle on a blue background', seed: 4, steps: 6, batchSize: 2 };
    const jobs = [
      { ...base, sampler: 'dpmpp_2m_sde' },
      { ...base, sampler: 'dpmpp_sde', batchSize: 1, hires: { scale: 2, steps: 4, strength: 0.5, upscaler: 'latent' as const } },
    ];
    for (const job of jobs) {
      const threaded = await generate(model, job, {});
      drawNoiseOnMainThread(true);
      const here = await generate(model, job, {});
      drawNoiseOnMainThread(false);
      assert.equal(threaded.images.length, job.batchSize);
      threaded.images.forEach((image, i) => assert.ok(image.png.equals(here.images[i].png), `${job.sampler} image ${i}`));
    }
  } finally {
    drawNoiseOnMainThread(false);
    await model.dispose();
  }
});

// Last: the thread does not start again in this process.
test('a thread that dies mid-run leaves the main thread to answer, with the same values', async () => {
  await startNoiseThread();
  const expected = brownianNoise([9], 64, SPAN, sourceRandn('torch-cpu'));
  const noise = brownianNoiseOf('torch-cpu', [9], 64, SPAN);
  const got = [noise(...STEPS[0])];
  noise.prefetch!(...STEPS[1]); // asked for, perhaps answered, never taken: answered again here
  await stopNoiseThreadForTest();
  got.push(noise(...STEPS[1]), noise(...STEPS[2]));
  got.forEach((draw, i) => assert.deepEqual(draw, expected(...STEPS[i]), `step ${i}`));
});
