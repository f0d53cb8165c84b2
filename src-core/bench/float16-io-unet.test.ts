// The benchmark's float16-edged UNet is the embedded UNet with only its edges in half: on inputs that half holds
// exactly, its output is the float32 UNet's output rounded to half. Both run through the engine's own UNet call, the
// fp16 one given float32 values (converted both ways by the half kernels) and given half bit patterns (passed through).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { DEFAULT_MODEL_DIR } from '../model/default-model.ts';
import { fromHalfBits, toHalfBits } from '../model/half.ts';
import { loadModel } from '../model/model.ts';
import { newTimings, unetCall } from '../pipeline/components.ts';
import { float16IoCopy } from './float16-io-unet.ts';
import type { UNetFloats } from '../guidance/unet.ts';

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
    const floats = (out: UNetFloats) => {
      assert.ok(out instanceof Float32Array, 'float32 out for float32 in');
      return out;
    };
    const expected = toHalfBits(Float32Array.from(floats(await unetCall(plain, 16, 16, newTimings())(batch))));
    assert.ok(
      expected.some((h) => h !== 0),
      'the UNet output is not all zeros',
    );
    const edgedCall = unetCall(edged, 16, 16, newTimings());
    assert.ok(edgedCall.halves && !unetCall(plain, 16, 16, newTimings()).halves);
    // Given float32, the call converts both ways; given half bit patterns, it passes them through both ways.
    assert.deepEqual(toHalfBits(floats(await edgedCall(batch))), expected);
    const halves = await edgedCall({ ...batch, sample: toHalfBits(batch.sample) });
    assert.ok(halves instanceof Uint16Array, 'half bit patterns out for half bit patterns in');
    assert.deepEqual(halves, expected);
  } finally {
    await Promise.all([plain.dispose(), edged.dispose()]);
    rmSync(dirname(copy), { recursive: true, force: true });
  }
});
