// The benchmark's JIT warm-up runs the engine's code without running the UNet, and leaves the real UNet and VAE in
// place for the measured runs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_MODEL_DIR } from '../model/default-model.ts';
import { loadModel } from '../model/model.ts';
import { generate } from '../pipeline/txt2img.ts';
import { watchUnetCalls } from './unet-calls.ts';
import { warmUpJit } from './jit-warmup.ts';

test('the JIT warm-up stands the UNet and VAE in for its calls, then the real ones make the same image as before it', async () => {
  const model = await loadModel(DEFAULT_MODEL_DIR, { provider: 'cpu' });
  try {
    // Counted beneath the watch, as onnxruntime's own runs.
    let unetRuns = 0;
    const unet = model.unet.session,
      unetRun = unet.run.bind(unet);
    unet.run = ((...args: Parameters<typeof unetRun>) => (unetRuns++, unetRun(...args))) as typeof unet.run;
    const vaeRun = model.vaeDecoder.session.run;
    const calls = watchUnetCalls(model);
    const request = { prompt: 'a red circle on a blue background', seed: 3, steps: 6, sampler: 'euler', cfgScale: 7, count: 2 };
    const before = await generate(model, request);
    assert.equal(unetRuns, 12);

    const made = await warmUpJit(model, calls, request, 30);
    assert.equal(made, 36, 'whole runs of the request until 30 calls are made');
    assert.equal(unetRuns, 12, 'no UNet run during the warm-up');
    assert.equal(model.vaeDecoder.session.run, vaeRun, 'the VAE decoder is the real one again');

    const after = await generate(model, request);
    assert.equal(unetRuns, 24);
    assert.deepEqual(
      after.images.map((i) => Buffer.from(i.png)),
      before.images.map((i) => Buffer.from(i.png)),
    );
  } finally {
    await model.dispose();
  }
});

test('a JIT warm-up of 0 calls runs nothing', async () => {
  const model = await loadModel(DEFAULT_MODEL_DIR, { provider: 'cpu' });
  try {
    const calls = watchUnetCalls(model);
    assert.equal(await warmUpJit(model, calls, { prompt: 'x', steps: 2 }, 0), 0);
  } finally {
    await model.dispose();
  }
});
