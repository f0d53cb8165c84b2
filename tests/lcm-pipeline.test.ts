// The LCM sampler through the whole pipeline, on the embedded model: A1111's LCM denoiser (sd_samplers_lcm.py) feeds
// the UNet only the 50 timesteps LCM was distilled on (every 20th of SD's 1000, ending at 999: 19, 39, ..., 999), one
// evaluation per step. The pieces are checked against A1111's own code in src-core/samplers/lcm.test.ts; this checks
// that a generate request with the LCM sampler reaches the UNet on that grid (and that Euler's does not).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { loadModel, type StableDiffusionModel } from '../src-core/model/model.ts';
import { generate } from '../src-core/pipeline/txt2img.ts';

const EMBEDDED = fileURLToPath(new URL('../models/restart-shapes-64/', import.meta.url));

/** The timestep of every UNet call during `run`. */
async function unetTimesteps(model: StableDiffusionModel, run: () => Promise<unknown>): Promise<number[]> {
  type Run = (feeds: Record<string, { data: ArrayLike<number | bigint> }>, ...rest: unknown[]) => unknown;
  const session = model.unet.session as unknown as { run: Run };
  const own = session.run;
  const seen: number[] = [];
  session.run = function (this: unknown, feeds, ...rest) {
    seen.push(Number(feeds.timestep.data[0]));
    return own.call(this, feeds, ...rest);
  };
  try {
    await run();
  } finally {
    session.run = own;
  }
  return seen;
}

test('LCM: every UNet call gets one of the 50 LCM timesteps, descending, one per step', async () => {
  const model = await loadModel(EMBEDDED);
  try {
    const request = { prompt: 'a red circle on a blue background', seed: 3, steps: 4, cfgScale: 1.5 };
    const lcm = await unetTimesteps(model, () => generate(model, { ...request, sampler: 'lcm' }));
    assert.equal(lcm.length, 4);
    for (const t of lcm) assert.ok(Number.isInteger(t) && t % 20 === 19 && t <= 999, `timestep ${t} is not on LCM's grid`);
    assert.ok(
      lcm.every((t, i) => i === 0 || t < lcm[i - 1]),
      lcm.join(', '),
    );
    assert.equal(lcm[0], 999, 'the first step at the grid top');
    const euler = await unetTimesteps(model, () => generate(model, { ...request, sampler: 'euler' }));
    assert.ok(
      euler.some((t) => !Number.isInteger(t) || t % 20 !== 19),
      `Euler's timesteps ${euler.join(', ')}`,
    );
  } finally {
    await model.dispose();
  }
});
