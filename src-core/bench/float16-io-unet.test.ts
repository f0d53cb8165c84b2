// The benchmark's float16-edged UNet is the embedded UNet with only its edges in half: on inputs that half holds
// exactly, its output is the float32 UNet's output rounded to half. Both run through the engine's own UNet call (the
// fp16 one converting its input and output with the half kernels at 4x16x16).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { DEFAULT_MODEL_DIR } from '../model/default-model.ts';
import { fromHalfBits, toHalfBits } from '../model/half.ts';
import { loadModel } from '../model/model.ts';
import { newTimings, unetCall } from '../pipeline/components.ts';
import { float16IoCopy } from './float16-io-unet.ts';

const halfExact = (values: Float32Array) => fromHalfBits(toHalfBits(values));

test('the float16-edged UNet gives the float32 UNet output rounded to half', async () => {
  const copy = float16IoCopy(DEFAULT_MODEL_DIR);
  const [plain, edged] = await Promise.all([loadModel(DEFAULT_MODEL_DIR), loadModel(copy)]);
  try {
    assert.equal(plain.info.unetFloat, 'float32');
    assert.equal(edged.info.unetFloat, 'float16');
    const { latentChannels, tokens, textHidden } = plain.info;
    let seed = 5;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31 - 0.5) * 4;
    const batch = {
      sample: halfExact(Float32Array.from({ length: 2 * latentChannels * 16 * 16 }, random)),
      batch: 2,
      timestep: 601,
      encoderHiddenStates: halfExact(Float32Array.from({ length: 2 * tokens * textHidden }, random)),
    };
    const expected = toHalfBits(Float32Array.from(await unetCall(plain, 16, 16, newTimings())(batch)));
    const actual = toHalfBits(await unetCall(edged, 16, 16, newTimings())(batch));
    assert.ok(
      expected.some((h) => h !== 0),
      'the UNet output is not all zeros',
    );
    assert.deepEqual(actual, expected);
  } finally {
    await Promise.all([plain.dispose(), edged.dispose()]);
    rmSync(dirname(copy), { recursive: true, force: true });
  }
});
