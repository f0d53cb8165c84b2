// The engine's noise thread (src-core/noise/noise-thread.ts): the same values as the main thread's draws for every
// source, drawn ahead or not; bad sources and seeds refused by the caller's call; a thread that dies mid-stream
// leaves the main thread to go on with the same values; the bundled worker (as the app ships it) starts and answers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { batchNoise, createNoiseStream, NOISE_SOURCES } from '../src-core/noise/index.ts';
import {
  batchNoiseOf,
  drawNoiseOnMainThread,
  noiseThreadRunning,
  startNoiseThread,
  stopNoiseThreadForTest,
} from '../src-core/noise/noise-thread.ts';
import { loadModel } from '../src-core/model/model.ts';
import { DEFAULT_MODEL_DIR } from '../src-core/model/default-model.ts';
import { generate } from '../src-core/pipeline/txt2img.ts';
import { runBundled, sourceOf } from './helpers/bundled-worker.ts';

const SOURCES = Object.keys(NOISE_SOURCES);

/** `draws` draws of the main thread's own batch noise over these seeds. */
function expectedDraws(source: string, seeds: number[], perImage: number, draws: number): Float64Array[] {
  const noise = batchNoise(
    seeds.map((seed) => createNoiseStream(source, seed)),
    perImage,
  );
  return Array.from({ length: draws }, () => noise());
}

test('the thread draws what the main thread draws, for every source, ahead or not', async () => {
  await startNoiseThread();
  assert.ok(noiseThreadRunning(), 'the thread started');
  // 37 values: odd (the default source keeps a spare value) and past torch-cpu's 16-value blocks; 8: under them.
  for (const source of SOURCES) {
    for (const perImage of [37, 8]) {
      const seeds = [5, 6];
      const expected = expectedDraws(source, seeds, perImage, 6);
      const noise = batchNoiseOf(source, seeds, perImage);
      const got = [noise()];
      noise.prefetch!();
      noise.prefetch!(); // a second prefetch before the draw is taken asks for nothing more
      got.push(noise(), noise());
      noise.prefetch!();
      got.push(noise());
      // borrow: the same values in the shared memory itself (copied here before the next draw is asked for).
      got.push(Float64Array.from(noise.borrow!()));
      noise.prefetch!();
      got.push(Float64Array.from(noise.borrow!()));
      got.forEach((draw, i) => assert.deepEqual(draw, expected[i], `${source}, ${perImage} values, draw ${i}`));
      assert.notEqual(got[0].buffer, got[1].buffer, 'each draw is an array of its own');
    }
  }
});

test('a bad source or seed is refused by the call that asks for the noise', async () => {
  await startNoiseThread();
  assert.throws(() => batchNoiseOf('quantum', [1], 8), /unknown noise source "quantum"/);
  assert.throws(() => batchNoiseOf('default', [1, -3], 8), /seed must be a whole number >= 0/);
});

test('Euler a and hires fix jobs give the same PNGs with their noise drawn in the thread or on the main thread', async () => {
  await startNoiseThread();
  const model = await loadModel(DEFAULT_MODEL_DIR, { provider: 'cpu' });
  try {
    const request = { prompt: 'a red circle on a blue background', seed: 4, steps: 6, sampler: 'euler_ancestral', count: 2, batchSize: 2 };
    // The second pass's noise is asked for when the first pass starts (a stream of its own per image, drawn ahead).
    const hires = { ...request, count: 1, hires: { scale: 2, steps: 4, strength: 0.5, upscaler: 'latent' as const } };
    for (const job of [request, hires]) {
      const threaded = await generate(model, job, {});
      drawNoiseOnMainThread(true);
      const here = await generate(model, job, {});
      drawNoiseOnMainThread(false);
      assert.equal(threaded.images.length, job.count * job.batchSize);
      threaded.images.forEach((image, i) => assert.ok(image.png.equals(here.images[i].png), `image ${i}`));
    }
  } finally {
    drawNoiseOnMainThread(false);
    await model.dispose();
  }
});

test('a thread that dies mid-stream leaves the main thread to draw the rest, with the same values', async () => {
  await startNoiseThread();
  const expected = expectedDraws('torch-cpu', [9], 64, 5);
  const noise = batchNoiseOf('torch-cpu', [9], 64);
  const got = [noise(), noise()];
  noise.prefetch!(); // asked for, perhaps drawn, never taken: drawn again here
  await stopNoiseThreadForTest();
  assert.equal(noiseThreadRunning(), false);
  got.push(noise(), noise(), noise());
  got.forEach((draw, i) => assert.deepEqual(draw, expected[i], `draw ${i}`));
  assert.deepEqual(batchNoiseOf('torch-cpu', [9], 64)(), expected[0], 'later batches draw here');
});

test('the bundled worker starts beside the bundle that uses it, and an idle thread lets the process end', async () => {
  const run = await runBundled(
    `import { startNoiseThread, batchNoiseOf, noiseThreadRunning } from ${sourceOf('src-core/noise/noise-thread.ts')};\n` +
      `startNoiseThread().then(() => {\n` +
      `  const noise = batchNoiseOf('torch-cuda', [3, 4], 20);\n` +
      `  const first = noise();\n` +
      `  noise.prefetch();\n` +
      `  console.log(JSON.stringify({ running: noiseThreadRunning(), draws: [Array.from(first), Array.from(noise())] }));\n` +
      `});\n`,
    { entry: 'src-core/noise/noise-worker.ts', bundled: 'noise-worker.cjs' },
  );
  assert.equal(run.status, 0, `the process ended by itself: ${run.stderr} ${run.signal ?? ''}`);
  const out = JSON.parse(run.stdout) as { running: boolean; draws: number[][] };
  assert.equal(out.running, true, 'the bundled thread started');
  assert.deepEqual(
    out.draws.map((d) => Float64Array.from(d)),
    expectedDraws('torch-cuda', [3, 4], 20, 2),
  );
});
