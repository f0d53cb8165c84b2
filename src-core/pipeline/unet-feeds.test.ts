import { test } from 'node:test';
import assert from 'node:assert/strict';
import type * as ort from 'onnxruntime-node';
import { fromHalfBits } from '../model/half.ts';
import type { StableDiffusionModel } from '../model/model.ts';
import { newTimings, unetCall } from './components.ts';

/** A model whose UNet session records what each call was fed (values copied as they were at the call). */
function recordingModel(unetFloat: 'float32' | 'float16') {
  const calls: Array<{ sample: number[]; timestep: number; statesTensor: ort.Tensor }> = [];
  const session = {
    run: async (feeds: Record<string, ort.Tensor>) => {
      const sample = feeds.sample.data as Float32Array | Uint16Array;
      calls.push({
        sample: [...(sample instanceof Uint16Array ? fromHalfBits(sample) : sample)],
        timestep: Number((feeds.timestep.data as Float32Array)[0]),
        statesTensor: feeds.encoder_hidden_states,
      });
      return { out_sample: { type: 'float32', data: new Float32Array(sample.length), size: sample.length, dims: feeds.sample.dims } };
    },
  };
  const info = { latentChannels: 1, textHidden: 2, unetFloat, timestepType: 'float32', timestepShape: 'single' };
  return { model: { info, unet: { session } } as unknown as StableDiffusionModel, calls };
}

for (const unetFloat of ['float32', 'float16'] as const) {
  test(`${unetFloat} UNet: each call sees the sample's and timestep's new values, whether its feeds are reused or rebuilt`, async () => {
    const { model, calls } = recordingModel(unetFloat);
    const timings = newTimings();
    const unet = unetCall(model, 1, 2, timings);
    const sample = Float32Array.of(1, 2, 3, 4),
      states = new Float32Array(2 * 3 * 2);
    await unet({ sample, batch: 2, timestep: 900, encoderHiddenStates: states });
    sample.set([5, 6, 7, 8]);
    await unet({ sample, batch: 2, timestep: 500, encoderHiddenStates: states });
    const other = Float32Array.of(-1, -2, -3, -4);
    await unet({ sample: other, batch: 2, timestep: 100, encoderHiddenStates: states });
    assert.deepEqual(
      calls.map((c) => [c.sample, c.timestep]),
      [
        [[1, 2, 3, 4], 900],
        [[5, 6, 7, 8], 500],
        [[-1, -2, -3, -4], 100],
      ],
    );
    assert.deepEqual(calls[0].statesTensor.dims, [2, 3, 2]);
    assert.equal(calls[1].statesTensor, calls[0].statesTensor, 'the same prompt states: the same tensor, converted once');
    assert.equal(timings.unetCalls, 3);
  });
}
