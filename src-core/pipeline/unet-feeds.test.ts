// The UNet's preallocated output: onnxruntime writes the model output into the caller's array (the denoiser's
// workspace), and a provider that does not is found at the first run and read as before.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as ort from 'onnxruntime-node';
import { loadModel } from '../model/model.ts';
import { DEFAULT_MODEL_DIR } from '../model/default-model.ts';
import { LatentWorkspace } from '../kernels/kernel-memory.ts';
import { newTimings, unetCall } from './components.ts';
import { OutputFeed } from './unet-feeds.ts';
import { float16IoCopy } from '../bench/float16-io-unet.ts';
import { toHalfBits } from '../model/half.ts';
import { rmSync } from 'node:fs';
import { dirname } from 'node:path';

// The embedded UNet, and its copy with float16 edges (an fp16 UNet's half bit patterns in and out).
for (const half of [false, true]) {
  test(`the embedded ${half ? 'fp16-edged ' : ''}UNet writes its output into the given array, as a run without one gives it`, async () => {
    const folder = half ? float16IoCopy(DEFAULT_MODEL_DIR) : DEFAULT_MODEL_DIR;
    const model = await loadModel(folder);
    try {
      const { latentChannels, textHidden } = model.info;
      const n = latentChannels * 64 * 64;
      const states = Float32Array.from({ length: 2 * 77 * textHidden }, (_, i) => Math.sin(i) / 3);
      const values = Float32Array.from({ length: 2 * n }, (_, i) => Math.cos(i / 5));
      const sample = half ? toHalfBits(values) : values;
      const plain = unetCall(model, 64, 64, newTimings());
      const expected = (await plain({ sample, batch: 2, timestep: 411.5, encoderHiddenStates: states })).slice();
      const space = new LatentWorkspace(n, 2);
      const output = space.unetOutput(half, 2 * n);
      const timings = newTimings();
      const call = unetCall(model, 64, 64, timings);
      for (const timestep of [411.5, 411.5]) {
        const out = await call({ sample, batch: 2, timestep, encoderHiddenStates: states, output });
        assert.equal(out, output, 'the output array itself');
        assert.deepEqual(out, expected);
        assert.equal(timings.unetOutputInPlace, true);
      }
    } finally {
      if (half) rmSync(dirname(folder), { recursive: true, force: true });
    }
  });
}

test('a provider that leaves the preallocated output unwritten is found at the first run, and not given one again', () => {
  const feed = new OutputFeed('out_sample', 'float32');
  const target = new Float32Array(4).fill(3);
  const fetches = feed.fetches(target, [1, 4]) as Record<string, ort.Tensor>;
  assert.equal(fetches.out_sample.data, target);
  assert.ok(target.every(Number.isNaN), 'filled with NaN before the first run');
  assert.equal(feed.written(new ort.Tensor('float32', Float32Array.of(1, 2, 3, 4), [1, 4])), undefined);
  assert.equal(feed.inPlace, false);
  assert.deepEqual(feed.fetches(target, [1, 4]), ['out_sample']);
  assert.equal(feed.written(new ort.Tensor('float32', Float32Array.of(1, 2, 3, 4), [1, 4])), undefined);

  // One that writes it: the target from then on, without a check or a fill.
  const writes = new OutputFeed('out_sample', 'float16');
  const halves = new Uint16Array(4);
  const given = (writes.fetches(halves, [4]) as Record<string, ort.Tensor>).out_sample;
  halves.set([1, 2, 3, 4]);
  assert.equal(writes.written(new ort.Tensor('float16', Uint16Array.of(1, 2, 3, 4), [4])), halves);
  assert.equal((writes.fetches(halves, [4]) as Record<string, ort.Tensor>).out_sample, given, 'the same tensor');
  assert.deepEqual([...halves], [1, 2, 3, 4], 'no fill after the first run');
  assert.equal(writes.written(new ort.Tensor('float16', Uint16Array.of(9, 9, 9, 9), [4])), halves);
  // An array of the other float type is not given as the output, nor any array for an output of another type.
  assert.deepEqual(writes.fetches(new Float32Array(4), [4]), ['out_sample']);
  assert.deepEqual(new OutputFeed('out_sample', 'float32').fetches(new Uint16Array(4), [4]), ['out_sample']);
  assert.deepEqual(new OutputFeed('out_sample', undefined).fetches(new Float32Array(4), [4]), ['out_sample']);
});
