// The UNet call: inputs in the model's declared dtype, and the prompt states converted once per run
// (the same tensor is handed to onnxruntime at every step while the states array is the same).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type * as ort from 'onnxruntime-node';
import type { StableDiffusionModel } from '../model/model.ts';
import { fromHalfBits } from '../model/half.ts';
import { newTimings, unetCall } from './components.ts';

function stubModel(feedsSeen: Array<Record<string, ort.Tensor>>): StableDiffusionModel {
  const session = {
    run: async (feeds: Record<string, ort.Tensor>) => {
      feedsSeen.push(feeds);
      return { out_sample: feeds.sample };
    },
  };
  return {
    info: { latentChannels: 4, textHidden: 8, unetFloat: 'float16', timestepType: 'float32', timestepShape: 'batch' },
    unet: { session },
  } as unknown as StableDiffusionModel;
}

test('fp16 UNet: prompt states converted once and reused; latents round-trip through half precision', async () => {
  const seen: Array<Record<string, ort.Tensor>> = [];
  const timings = newTimings();
  const call = unetCall(stubModel(seen), 2, 2, timings);
  const states = Float32Array.from({ length: 2 * 3 * 8 }, (_, i) => i / 7);
  const sample = Float32Array.from({ length: 2 * 4 * 2 * 2 }, (_, i) => i - 10.3);
  const out1 = await call({ sample, batch: 2, timestep: 500, encoderHiddenStates: states });
  await call({ sample, batch: 2, timestep: 400, encoderHiddenStates: states });
  assert.equal(seen.length, 2);
  assert.equal(seen[0].encoder_hidden_states, seen[1].encoder_hidden_states, 'the same states tensor at every step');
  assert.equal(seen[0].encoder_hidden_states.type, 'float16');
  assert.deepEqual(seen[0].encoder_hidden_states.dims, [2, 3, 8]);
  assert.deepEqual([...fromHalfBits(seen[0].encoder_hidden_states.data as Uint16Array)].slice(0, 3), [
    0,
    Math.fround(0.142822265625),
    Math.fround(0.28564453125),
  ]);
  assert.equal(seen[0].sample.type, 'float16');
  for (let i = 0; i < sample.length; i++) assert.ok(Math.abs(out1[i] - sample[i]) <= Math.abs(sample[i]) * 2 ** -11, `latent ${i}`);
  assert.equal(timings.unetCalls, 2);

  // The latent and timestep tensors are reused across steps, their values rewritten in place.
  assert.equal(seen[0].sample, seen[1].sample, 'the same sample tensor at every step');
  assert.equal(seen[0].timestep, seen[1].timestep);
  assert.deepEqual([...(seen[1].timestep.data as Float32Array)], [400, 400]);
  sample[0] = 2.5;
  const out3 = await call({ sample, batch: 2, timestep: 300, encoderHiddenStates: states });
  assert.equal(out3[0], 2.5, 'a float16 sample is converted again at every call');

  const other = Float32Array.from(states, (v) => v + 1);
  await call({ sample, batch: 2, timestep: 300, encoderHiddenStates: other });
  assert.notEqual(seen[3].encoder_hidden_states, seen[2].encoder_hidden_states, 'new states, new tensor');
  const moved = Float32Array.from(sample, (v) => -v);
  const out5 = await call({ sample: moved, batch: 2, timestep: 200, encoderHiddenStates: other });
  assert.notEqual(seen[4].sample, seen[3].sample, 'a new sample array, a new tensor');
  assert.equal(seen[4].encoder_hidden_states, seen[3].encoder_hidden_states);
  assert.equal(out5[0], -2.5);
  assert.deepEqual([...(seen[4].timestep.data as Float32Array)], [200, 200]);
});

test('a provider that refuses the preallocated output at its first run: run again without it, and not given it again', async () => {
  const fetchesSeen: unknown[] = [];
  const session = {
    run: async (feeds: Record<string, ort.Tensor>, fetches: unknown) => {
      fetchesSeen.push(fetches);
      if (!Array.isArray(fetches)) throw new Error('preallocated outputs are not supported here');
      return { out_sample: feeds.sample };
    },
  };
  const model = {
    info: {
      latentChannels: 4,
      textHidden: 8,
      unetFloat: 'float32',
      timestepType: 'float32',
      timestepShape: 'batch',
      vaeFactor: 8,
      unetShape: { channels: [32, 64] },
    },
    unet: { session, outputs: new Map([['out_sample', { name: 'out_sample', type: 'float32', shape: [] }]]) },
  } as unknown as StableDiffusionModel;
  const call = unetCall(model, 2, 2, newTimings());
  const sample = Float32Array.from({ length: 2 * 4 * 2 * 2 }, (_, i) => i / 3);
  const output = new Float32Array(sample.length);
  const states = new Float32Array(2 * 3 * 8);
  for (let i = 0; i < 2; i++) {
    const out = await call({ sample, batch: 2, timestep: 500, encoderHiddenStates: states, output });
    assert.deepEqual(out, sample, 'the returned values');
  }
  assert.equal(fetchesSeen.length, 3, 'one refused run, then one run per call');
  assert.ok(!Array.isArray(fetchesSeen[0]));
  assert.deepEqual(fetchesSeen.slice(1), [['out_sample'], ['out_sample']]);

  // A model's own error still comes back, after one run without the preallocated output.
  let runs = 0;
  const failing = {
    ...model,
    unet: { ...model.unet, session: { run: async () => Promise.reject(new Error(`the model failed (run ${++runs})`)) } },
  } as unknown as StableDiffusionModel;
  await assert.rejects(
    unetCall(failing, 2, 2, newTimings())({ sample, batch: 2, timestep: 500, encoderHiddenStates: states, output }),
    /the model failed \(run 2\)/,
  );
});
