// img2img's noise multiplier (A1111's initial_noise_multiplier, "Noise multiplier" in its PNGs): the first draw, the
// noise added to the source latent, is scaled by it before sampling; the sampler's later draws are not, and hires
// fix's second pass and text to image ignore it (A1111's sample_hr_pass draws its noise unscaled). Each run here is
// compared with one computed without the field: the stream's first draw scaled by hand, or a sampler started from
// the source itself.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decode } from 'fast-png';
import type { StableDiffusionModel } from '../src-core/model/model.ts';
import { generate } from '../src-core/pipeline/txt2img.ts';
import { planJob, sampleJobBatch } from '../src-core/pipeline/passes.ts';
import { sampleFromLatent } from '../src-core/pipeline/img2img.ts';
import { parseGenerateRequest, type GenerateRequestInput } from '../src-core/contract/generate.ts';
import { newTimings } from '../src-core/pipeline/components.ts';
import { batchNoise, createNoiseStream } from '../src-core/noise/index.ts';
import { runSampler } from '../src-core/samplers/run.ts';
import type { Denoiser, NoiseSampler } from '../src-core/samplers/types.ts';
import { withFixtureModel } from './helpers/model-folders.ts';

const INIT = new Uint8Array(readFileSync(join(import.meta.dirname, 'fixtures', 'img2img', 'inputs', 'init-64.png')));
const base = {
  prompt: 'a red circle on a blue background',
  negativePrompt: 'green',
  steps: 8,
  cfgScale: 5,
  noiseSource: 'torch-cpu' as const,
};
// 32x32 images: 4 latent channels of 4x4.
const PER_IMAGE = 4 * 4 * 4;
// A stand-in denoiser and source latent: the multiplier's arithmetic is what these check, the UNet is covered below.
const denoiser: Denoiser = async (x, sigma) => x.map((v, i) => (v * 0.5 + Math.sin(i) * 0.1) / (1 + sigma));
const source = Float64Array.from({ length: PER_IMAGE }, (_, i) => Math.cos(i * 0.7));

const withModel = (run: (model: StableDiffusionModel) => Promise<void>) => withFixtureModel('tiny-sd-eps-int64', run);

/** The seeds' streams, as the engine draws them, with the first draw (only) multiplied by `factor` here. */
function firstDrawScaled(seeds: number[], factor: number): NoiseSampler {
  const streams = batchNoise(
    seeds.map((s) => createNoiseStream('torch-cpu', s)),
    PER_IMAGE,
  );
  let first = true;
  return () => {
    const draw = streams();
    if (first) for (let i = 0; i < draw.length; i++) draw[i] *= factor;
    first = false;
    return draw;
  };
}

const img2imgBatch = (model: StableDiffusionModel, fields: Partial<GenerateRequestInput>, seeds: number[]) => {
  const request = parseGenerateRequest({ ...base, initImage: 'file:x', ...fields });
  const job = planJob(model, request, { width: 32, height: 32 });
  const run = { seeds, denoiserAt: () => denoiser, source, timings: newTimings() };
  return { job, latents: sampleJobBatch(model, request, job, run) };
};

test('img2img with a noise multiplier equals the run whose first draw is multiplied by hand (Euler a: later draws unscaled)', async () => {
  await withModel(async (model) => {
    for (const multiplier of [0.5, 1.3]) {
      const fields = { seed: 9, sampler: 'euler_ancestral' as const, strength: 0.7, img2imgNoiseMultiplier: multiplier };
      const { job, latents } = img2imgBatch(model, fields, [9, 10]);
      const byHand = await sampleFromLatent(job.passes[0].plan, denoiser, firstDrawScaled([9, 10], multiplier), source, PER_IMAGE);
      assert.deepEqual(await latents, byHand, `multiplier ${multiplier}`);
      // Scaling every draw instead (or none) is a different run: the comparison above tells them apart.
      const unscaled = await sampleFromLatent(job.passes[0].plan, denoiser, firstDrawScaled([9, 10], 1), source, PER_IMAGE);
      assert.notDeepEqual(byHand, unscaled);
    }
  });
});

test('multiplier 0: the deterministic run from the source itself, whatever the seed', async () => {
  await withModel(async (model) => {
    for (const seed of [1, 2]) {
      const { job, latents } = img2imgBatch(model, { seed, sampler: 'euler', strength: 0.6, img2imgNoiseMultiplier: 0 }, [seed]);
      // Euler draws no noise: started at the source latent, it needs no stream at all.
      const fromSource = await runSampler(job.passes[0].plan, denoiser, Float64Array.from(source), {
        noise: () => assert.fail('Euler draws no noise'),
      });
      assert.deepEqual(await latents, fromSource, `seed ${seed}`);
    }
  });
});

test('hires fix and text to image ignore the multiplier (A1111 applies it to img2img only)', async () => {
  await withModel(async (model) => {
    for (const fields of [{ hires: { scale: 1.5, steps: 4, strength: 0.6, upscaler: 'latent' as const } }, {}]) {
      const plain = parseGenerateRequest({ ...base, seed: 5, ...fields });
      const multiplied = parseGenerateRequest({ ...base, seed: 5, ...fields, img2imgNoiseMultiplier: 0.3 });
      const job = planJob(model, plain, { width: 32, height: 32 });
      const run = { seeds: [5], denoiserAt: () => denoiser, timings: newTimings() };
      assert.deepEqual(await sampleJobBatch(model, multiplied, job, run), await sampleJobBatch(model, plain, job, run));
    }
  });
});

test('on the tiny model: multiplier 1 gives the same bytes as no field; another value changes the image and is written', async () => {
  await withModel(async (model) => {
    const request = { ...base, seed: 4, sampler: 'euler' as const, strength: 0.6, initImage: 'file:init-64.png' as const };
    const run = (extra: Partial<GenerateRequestInput>) => generate(model, { ...request, ...extra }, { initImage: INIT });
    const [plain, one, half] = [await run({}), await run({ img2imgNoiseMultiplier: 1 }), await run({ img2imgNoiseMultiplier: 0.5 })];
    assert.deepEqual(one.images[0].png, plain.images[0].png);
    assert.doesNotMatch(plain.images[0].parameters, /Noise multiplier/);
    assert.notDeepEqual(decode(half.images[0].png).data, decode(plain.images[0].png).data);
    assert.match(half.images[0].parameters, /Denoising strength: 0\.6, Noise multiplier: 0\.5/);
  });
});
