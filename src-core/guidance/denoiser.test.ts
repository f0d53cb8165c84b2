import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Float16Array } from '@petamoriken/float16';
import { DefaultNoiseStream } from '../noise/default-noise.ts';
import { batchNoise } from '../noise/index.ts';
import { SAMPLERS } from '../samplers/index.ts';
import { karrasSchedule } from '../schedule/karras.ts';
import { guidedDenoiser } from './denoiser.ts';
import { inWorkspace } from '../kernels/kernel-memory.ts';
import type { TextConditioning, UNetBatch, UNetCall } from './unet.ts';
import { sd15Schedule } from '../../tests/helpers/sd15-files.ts';

const schedule = sd15Schedule();
// A few values per image (the JavaScript loops) and a 4x32x32 latent (the WebAssembly kernels, from KERNEL_FROM).
const latentSizes = [2 * 2 * 2, 4 * 32 * 32];
const encoding = (value: number): TextConditioning => ({ states: new Float32Array(3 * 4).fill(value), tokens: 3, hidden: 4 });
const randn = (seed: number, n: number) => new DefaultNoiseStream(seed).randn(n);

/** A perfect model for data x0 and noise eps: it returns what the UNet should predict. */
function oracle(x0: Float64Array, eps: Float64Array, sigma: number, prediction: 'epsilon' | 'v_prediction'): UNetCall {
  const alpha = 1 / Math.sqrt(1 + sigma * sigma),
    sigmaVp = sigma / Math.sqrt(1 + sigma * sigma);
  return async ({ sample }) =>
    Float32Array.from(sample, (_, i) => {
      const j = i % x0.length;
      return prediction === 'epsilon' ? eps[j] : alpha * eps[j] - sigmaVp * x0[j];
    });
}

const predictionCases = (['epsilon', 'v_prediction'] as const).flatMap((p) => latentSizes.map((n) => [p, n] as const));
for (const [prediction, perImage] of predictionCases) {
  test(`${prediction}, ${perImage} values: perfect model: D(x, sigma) = x0, the UNet sees c_in x at the fractional timestep`, async () => {
    const x0 = randn(1, perImage),
      eps = randn(2, perImage);
    for (const sigma of [0.05, 1.3, 14]) {
      const x = x0.map((v, i) => v + sigma * eps[i]);
      const inner = oracle(x0, eps, sigma, prediction);
      let seen: UNetBatch | undefined;
      const D = guidedDenoiser({
        unet: (input) => {
          seen = input;
          return inner(input);
        },
        schedule,
        prediction,
        batch: 1,
        cond: encoding(1),
        scale: 1,
      });
      const denoised = await D(x, sigma);
      for (let i = 0; i < perImage; i++) assert.ok(Math.abs(denoised[i] - x0[i]) < 1e-5 * (1 + sigma), `${sigma} ${i}`);
      assert.equal(seen!.timestep, schedule.sigmaToTimestep(sigma));
      for (let i = 0; i < perImage; i++) assert.ok(Math.abs(seen!.sample[i] - x[i] / Math.sqrt(sigma * sigma + 1)) < 1e-5);
    }
  });
}

for (const perImage of latentSizes) {
  test(`guidance batches [uncond, cond] into one UNet call and combines D_u + w (D_c - D_u) (${perImage} values)`, async () => {
    const calls: UNetBatch[] = [];
    // Output depends on the conditioning, so the combination can be checked exactly.
    const unet: UNetCall = async (input) => {
      calls.push(input);
      const tokenValues = input.encoderHiddenStates.length / input.batch;
      return Float32Array.from(input.sample, (_, i) => input.encoderHiddenStates[Math.floor(i / perImage) * tokenValues]);
    };
    const batch = 2,
      sigma = 2,
      w = 7.5;
    const D = guidedDenoiser({ unet, schedule, prediction: 'epsilon', batch, cond: encoding(3), uncond: encoding(-1), scale: w });
    const x = randn(3, batch * perImage);
    const out = await D(x, sigma);
    assert.equal(calls.length, 1);
    assert.equal(calls[0].batch, 2 * batch);
    assert.equal(calls[0].encoderHiddenStates.length, 2 * batch * 12);
    assert.deepEqual([...calls[0].encoderHiddenStates.filter((_, i) => i % 12 === 0)], [-1, -1, 3, 3], 'uncond first, then cond');
    const eps = -1 + w * (3 - -1);
    for (let i = 0; i < x.length; i++) assert.ok(Math.abs(out[i] - (x[i] - sigma * eps)) < 1e-9);
  });
}

test('at scale 1 the unconditional half is skipped', async () => {
  const perImage = latentSizes[0];
  const calls: UNetBatch[] = [];
  const D = guidedDenoiser({
    unet: async (input) => {
      calls.push(input);
      return new Float32Array(input.sample.length);
    },
    schedule,
    prediction: 'epsilon',
    batch: 3,
    cond: encoding(1),
    uncond: encoding(0),
    scale: 1,
  });
  await D(randn(4, 3 * perImage), 1);
  assert.equal(calls.length, 1);
  assert.equal(calls[0].batch, 3);
  assert.equal(calls[0].sample.length, 3 * perImage);
});

test('bad guidance setups are refused', () => {
  const unet: UNetCall = async (input) => input.sample;
  assert.throws(
    () => guidedDenoiser({ unet, schedule, prediction: 'epsilon', batch: 1, cond: encoding(1), scale: 5 }),
    /needs the unconditional/,
  );
  assert.throws(
    () => guidedDenoiser({ unet, schedule, prediction: 'epsilon', batch: 1, cond: encoding(1), uncond: encoding(0), scale: NaN }),
    /finite/,
  );
  assert.throws(
    () => guidedDenoiser({ unet, schedule, prediction: 'sample' as never, batch: 1, cond: encoding(1), scale: 1 }),
    /unsupported prediction type/,
  );
  assert.throws(
    () =>
      guidedDenoiser({
        unet,
        schedule,
        prediction: 'epsilon',
        batch: 1,
        cond: encoding(1),
        uncond: { states: new Float32Array(8), tokens: 2, hidden: 4 },
        scale: 3,
      }),
    /differ in shape/,
  );
});

// 4098 values: no workspace (not a multiple of 4), the kernels copy the arrays in and out.
for (const perImage of [...latentSizes, 4098]) {
  test(`every sampler gives the same latents whether the denoiser reuses its output arrays or not (${perImage} values)`, async () => {
    // A UNet whose output depends on its input and the timestep, so every estimate differs from the last.
    const unet: UNetCall = async ({ sample, timestep }) => Float32Array.from(sample, (v, i) => Math.sin(v * 3 + i + timestep / 100));
    const options = { unet, schedule, prediction: 'epsilon' as const, batch: 1, cond: encoding(1), uncond: encoding(-1), scale: 4 };
    const sigmas = karrasSchedule(6, 0.1, 10);
    for (const [name, sampler] of Object.entries(SAMPLERS)) {
      const run = async (copy: boolean) => {
        const D = guidedDenoiser(options);
        const model = copy ? async (x: Float64Array, sigma: number) => Float64Array.from(await D(x, sigma)) : D;
        const noise = batchNoise([new DefaultNoiseStream(9)], perImage);
        return sampler.sample(model, noise(), sigmas, { noise }, name === 'restart' ? { segments: [[3, 1, 0.5, 2]] } : {});
      };
      assert.deepEqual(await run(false), await run(true), name);
    }
  });
}

for (const perImage of latentSizes) {
  test(`an fp16 UNet's half bit patterns give the D of its values through float32 (${perImage} values)`, async () => {
    const f = (v: number, i: number, timestep: number) => Math.sin(v * 3 + i + timestep / 100);
    const toHalves = (values: ArrayLike<number>) => new Uint16Array(new Float16Array(values).buffer);
    const ofHalves = (bits: Uint16Array) => Float32Array.from(new Float16Array(bits.buffer, bits.byteOffset, bits.length));
    const halvesUnet: UNetCall = async ({ sample, timestep }) => {
      assert.ok(sample instanceof Uint16Array, 'a halves UNet is given half bit patterns');
      return toHalves(Array.from(ofHalves(sample), (v, i) => f(v, i, timestep)));
    };
    halvesUnet.halves = true;
    // The same UNet, given and giving float32 values, each rounded to half as an fp16 UNet's tensors would be.
    const floatUnet: UNetCall = async ({ sample, timestep }) =>
      ofHalves(toHalves(Array.from(ofHalves(toHalves(sample)), (v, i) => f(v, i, timestep))));
    const options = { schedule, prediction: 'epsilon' as const, batch: 1, cond: encoding(1), uncond: encoding(-1), scale: 4 };
    const halvesD = guidedDenoiser({ ...options, unet: halvesUnet }),
      floatD = guidedDenoiser({ ...options, unet: floatUnet });
    const x = randn(3, perImage);
    for (const sigma of [14.6, 3, 0.3]) {
      const expected = Float64Array.from(await floatD(x, sigma));
      assert.deepEqual(await halvesD(x, sigma), expected, `sigma ${sigma}`);
    }
  });
}

for (const perImage of latentSizes) {
  test(`a NaN or infinity from the UNet, float32 or halves, stops the sampler at that step (${perImage} values)`, async () => {
    const toHalves = (values: ArrayLike<number>) => new Uint16Array(new Float16Array(values).buffer);
    for (const halves of [false, true]) {
      // D's first value that is not finite: an infinite uncond value gives inf - inf in u + w (c - u), and c_out is -sigma.
      for (const [bad, at, first] of [
        [NaN, 0, 'NaN'],
        [Infinity, perImage - 1, 'NaN'],
        [-Infinity, perImage + 1, 'Infinity'],
      ] as const) {
        let calls = 0;
        const unet: UNetCall = async ({ sample }) => {
          const out = Float32Array.from(sample, (v) => Math.tanh(v));
          if (++calls === 3) out[at] = bad;
          return halves ? toHalves(out) : out;
        };
        unet.halves = halves;
        const D = guidedDenoiser({ unet, schedule, prediction: 'epsilon', batch: 1, cond: encoding(1), uncond: encoding(-1), scale: 5 });
        const noise = batchNoise([new DefaultNoiseStream(9)], perImage);
        await assert.rejects(
          SAMPLERS.euler.sample(D, noise(), karrasSchedule(6, 0.1, 10), { noise }, {}),
          new RegExp(`^SamplerError: model output is not finite \\(${first}\\) at step 2, sigma \\d`),
          `halves=${halves} ${bad} at ${at}`,
        );
      }
    }
  });
}

test("a run's result stays the caller's own: the denoiser's next run, on the same workspace, leaves it as it was", async () => {
  const perImage = 4 * 32 * 32;
  const unet: UNetCall = async ({ sample, timestep }) => Float32Array.from(sample, (v, i) => Math.sin(v * 3 + i + timestep / 100));
  const D = guidedDenoiser({ unet, schedule, prediction: 'epsilon', batch: 1, cond: encoding(1), uncond: encoding(-1), scale: 4 });
  const sigmas = karrasSchedule(4, 0.1, 10);
  for (const [name, sampler] of Object.entries(SAMPLERS)) {
    const run = (seed: number) => {
      const noise = batchNoise([new DefaultNoiseStream(seed)], perImage);
      return sampler.sample(D, noise(), sigmas, { noise }, name === 'restart' ? { segments: [[2, 1, 0.5, 2]] } : {});
    };
    const first = await run(1);
    const kept = Float64Array.from(first);
    assert.equal(inWorkspace(first), false, name);
    await run(2);
    assert.deepEqual(first, kept, name);
  }
});

test("the UNet's input and a run's arrays live in the denoiser's workspace where the latent's length is a multiple of 4", async () => {
  for (const [perImage, own] of [
    [4 * 32 * 32, true],
    [4098, false],
  ] as const) {
    let sample: UNetBatch['sample'] | undefined;
    const unet: UNetCall = async (input) => {
      sample = input.sample;
      return new Float32Array(input.sample.length);
    };
    const D = guidedDenoiser({ unet, schedule, prediction: 'epsilon', batch: 1, cond: encoding(1), uncond: encoding(-1), scale: 4 });
    const x = D.runArray!(perImage, 0);
    assert.equal(x !== undefined && inWorkspace(x), own, `${perImage}: run array`);
    assert.equal(D.runArray!(perImage, 4), undefined, 'four run arrays at most');
    assert.equal(inWorkspace(await D(randn(5, perImage), 1)), own, `${perImage}: output`);
    assert.equal(inWorkspace(sample!), own, `${perImage}: UNet input`);
  }
});

test("a released denoiser's workspace goes to a later denoiser, and the released one takes another if called again", async () => {
  const perImage = 4 * 16 * 16;
  const unet: UNetCall = async (input) => Float32Array.from(input.sample, (v) => Math.tanh(v));
  const options = { unet, schedule, prediction: 'epsilon' as const, batch: 1, cond: encoding(1), uncond: encoding(-1), scale: 4 };
  const first = guidedDenoiser(options);
  const x = randn(6, perImage);
  const before = Float64Array.from(await first(x, 2));
  const buffer = first.runArray!(perImage, 0)!.buffer;
  first.release!();
  const second = guidedDenoiser(options);
  assert.equal(second.runArray!(perImage, 0)!.buffer, buffer, 'the second denoiser took the released workspace');
  assert.notEqual(first.runArray!(perImage, 0)!.buffer, buffer, 'the first takes another');
  assert.deepEqual(await first(x, 2), before);
  assert.deepEqual(await second(x, 2), before);
});
