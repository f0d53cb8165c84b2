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
