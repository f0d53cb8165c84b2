// img2img and hires fix on real onnxruntime sessions (issue 23): the same image whatever the batch, every
// sampler on a partial schedule with its evaluations known up front, Restart segments above the start sigma
// dropped, hires fix's second pass equal to img2img of the upscaled first pass (Lanczos, through the public
// API; latent upscales against torch's interpolate), A1111's PNG keys both ways, and the refusals: a model
// folder without vae_encoder, an init image that is not an image.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { decode } from 'fast-png';
import { loadModel, type StableDiffusionModel } from '../src-core/model/model.ts';
import { generate, type GenerateHooks } from '../src-core/pipeline/txt2img.ts';
import { readTextChunks } from '../src-core/png/text-chunks.ts';
import { parametersToRequest } from '../src-core/pipeline/metadata.ts';
import { pngToRequest } from '../src-core/pipeline/png-import.ts';
import { SAMPLER_NAMES } from '../src-core/samplers/index.ts';
import { upscaleLatents } from '../src-core/pipeline/hires.ts';
import { planJob, sampleJobBatch } from '../src-core/pipeline/passes.ts';
import { sampleFromLatent } from '../src-core/pipeline/img2img.ts';
import { parseGenerateRequest, type GenerateRequestInput } from '../src-core/contract/generate.ts';
import { img2imgSteps } from '../src-core/contract/images.ts';
import { newTimings } from '../src-core/pipeline/components.ts';
import { batchNoise, createNoiseStream } from '../src-core/noise/index.ts';
import type { Denoiser } from '../src-core/samplers/types.ts';
import { modelFolder } from './helpers/model-folders.ts';

const FIXTURES = join(import.meta.dirname, 'fixtures', 'img2img');
const INIT = new Uint8Array(readFileSync(join(FIXTURES, 'inputs', 'init-64.png')));
const base = {
  prompt: 'a red circle on a blue background',
  negativePrompt: 'green',
  steps: 8,
  cfgScale: 5,
  noiseSource: 'torch-cpu' as const,
};

async function withModel(
  fixture: 'tiny-sd-eps-int64' | 'tiny-sd-v-fp16',
  run: (model: StableDiffusionModel, dir: string) => Promise<void>,
): Promise<void> {
  const dir = modelFolder(fixture);
  const model = await loadModel(dir);
  try {
    await run(model, dir);
  } finally {
    await model.dispose();
    rmSync(join(dir, '..'), { recursive: true, force: true });
  }
}

const img2img = (model: StableDiffusionModel, request: Partial<GenerateRequestInput>, hooks: GenerateHooks = {}) =>
  generate(model, { ...base, initImage: 'file:init-64.png', ...request }, { initImage: INIT, ...hooks });

const pixels = (png: Buffer) => decode(png).data;

for (const fixture of ['tiny-sd-eps-int64', 'tiny-sd-v-fp16'] as const) {
  test(`${fixture}: img2img image k of a batch equals a fresh run with seed + k (Euler a draws from the same stream)`, async () => {
    await withModel(fixture, async (model) => {
      const request = { sampler: 'euler_ancestral' as const, strength: 0.6, seed: 100 };
      const batch = await img2img(model, { ...request, count: 2, batchSize: 2 });
      assert.deepEqual(
        batch.images.map((i) => i.seed),
        [100, 101, 102, 103],
      );
      const single = await img2img(model, { ...request, seed: 102 });
      assert.deepEqual(single.images[0].png, batch.images[2].png);
      const again = await img2img(model, { ...request, seed: 102 });
      assert.deepEqual(again.images[0].png, single.images[0].png, 'the same seed and settings give the same image');
      // int(8 * 0.6) + 1 = 5 steps, one evaluation each; two batches.
      assert.equal(batch.evaluations, 5);
      assert.equal(batch.timings.unetCalls, 10);
      assert.match(batch.images[0].parameters, /Denoising strength: 0\.6/);
    });
  });
}

test('every sampler runs on a partial schedule and makes exactly the evaluations it announced', async () => {
  await withModel('tiny-sd-eps-int64', async (model) => {
    for (const sampler of SAMPLER_NAMES) {
      for (const [strength, exactSteps] of [
        [0.5, false],
        [0.3, true],
        [1, false],
      ] as const) {
        const request = {
          ...base,
          steps: 20,
          sampler,
          seed: 1,
          strength,
          exactSteps,
          initImage: 'file:x' as const,
          ...(sampler === 'restart' ? { restart: { preset: 'a1111' as const } } : {}),
        };
        const result = await generate(model, request, { initImage: INIT });
        const job = planJob(model, parseGenerateRequest(request), { width: 32, height: 32 });
        assert.equal(result.evaluations, job.evaluations);
        assert.equal(result.timings.unetCalls, job.evaluations, `${sampler} strength ${strength}: UNet calls`);
        // A1111's mapping: int(20 * strength) + 1 steps (11 at 0.5; 20 at 1, as strength is capped at 0.999), or exactly 20.
        assert.equal(
          job.passes[0].plan.sigmas.length - 1,
          exactSteps ? 20 : strength === 1 ? 20 : 11,
          `${sampler} strength ${strength}: steps run`,
        );
        assert.equal(job.img2img?.stepsRun, img2imgSteps(20, strength, exactSteps).stepsRun);
      }
    }
  });
});

test('Restart segments above the start sigma are dropped with a note; the a1111 preset works on the partial schedule', async () => {
  await withModel('tiny-sd-eps-int64', async (model) => {
    const request = {
      ...base,
      steps: 20,
      sampler: 'restart' as const,
      seed: 3,
      strength: 0.5,
      restart: {
        segments: [
          [3, 1, 0.3, 1],
          [3, 1, 1, 8],
        ] as Array<[number, number, number, number]>,
      },
    };
    const result = await img2img(model, request);
    assert.equal(result.notes.length, 1, result.notes.join('; '));
    assert.match(
      result.notes[0],
      /Restart segment \[3, 1, 1, 8\] reaches sigma 8, above this img2img's start sigma 1\.\d+ \(denoising strength 0\.5\): dropped/,
    );
    const job = planJob(model, parseGenerateRequest({ ...request, initImage: 'file:x' }), { width: 32, height: 32 });
    assert.deepEqual(job.passes[0].plan.options.segments, [[3, 1, 0.3, 1]]);
    assert.equal(result.timings.unetCalls, job.evaluations);
    const preset = await img2img(model, { ...base, steps: 30, sampler: 'restart', seed: 3, strength: 0.8, restart: { preset: 'a1111' } });
    assert.deepEqual(preset.notes, []);
    assert.ok(preset.evaluations > 2 * Math.floor(0.8 * 30), 'Heun steps plus restart passes');
  });
});

test('hires fix (Lanczos): the second pass equals img2img of the first pass upscaled, and its parameters round-trip', async () => {
  await withModel('tiny-sd-eps-int64', async (model) => {
    const hires = { scale: 2, steps: 6, strength: 0.55, upscaler: 'lanczos' as const, sampler: 'dpmpp_2m' as const };
    const result = await generate(model, { ...base, seed: 11, hires });
    const image = result.images[0];
    assert.deepEqual([image.width, image.height], [64, 64]);
    assert.equal(result.evaluations, 8 + 6, 'first pass 8 steps, second exactly its 6');
    // By hand: the first pass alone, its PNG upscaled by img2img's just-resize (the same Lanczos) and run
    // with exactly the second pass's steps, strength and sampler.
    const first = await generate(model, { ...base, seed: 11 });
    const second = await generate(
      model,
      {
        ...base,
        seed: 11,
        width: 64,
        height: 64,
        initImage: 'file:first.png',
        strength: 0.55,
        steps: 6,
        exactSteps: true,
        sampler: 'dpmpp_2m',
      },
      { initImage: new Uint8Array(first.images[0].png) },
    );
    assert.deepEqual(pixels(image.png), pixels(second.images[0].png));
    const text = readTextChunks(image.png).parameters;
    assert.match(
      text,
      /Size: 32x32, .*Denoising strength: 0\.55, Hires upscale: 2, Hires steps: 6, Hires upscaler: Lanczos, Hires sampler: DPM\+\+ 2M, NFE: 14/,
    );
    const back = parametersToRequest(text);
    assert.deepEqual(back.request.hires, hires);
    assert.deepEqual([back.request.width, back.request.height], [32, 32]);
    assert.deepEqual(back.notes, []);
    // Through png.read's path too (values checked against the contract).
    assert.deepEqual(pngToRequest(image.png).request.hires, hires);
    // A1111's own infotext: no Hires steps (same as the first pass), an upscaler this app does not have.
    const a1111 = parametersToRequest(
      'a cat\nSteps: 20, Sampler: Euler a, CFG scale: 7, Seed: 1, Size: 512x512, ' +
        'Denoising strength: 0.7, Hires upscale: 2, Hires upscaler: R-ESRGAN 4x+',
    );
    assert.deepEqual(a1111.request.hires, { scale: 2, strength: 0.7, upscaler: 'lanczos' });
    assert.match(a1111.notes.join('\n'), /hires upscaler "R-ESRGAN 4x\+" is not available here; using Lanczos/);
    // img2img's strength alone.
    assert.equal(parametersToRequest('a cat\nSteps: 20, Seed: 1, Denoising strength: 0.35').request.strength, 0.35);
  });
});

test('latent upscalers match torch.nn.functional.interpolate (bilinear and nearest-exact, A1111\'s "Latent" upscalers)', () => {
  const ref = JSON.parse(readFileSync(join(FIXTURES, 'references', 'latent-upscale.json'), 'utf8')) as {
    input: number[];
    cases: Array<{ mode: 'bilinear' | 'nearest-exact'; size: [number, number]; output: number[] }>;
  };
  for (const c of ref.cases) {
    const out = upscaleLatents(Float64Array.from(ref.input), { batch: 1, channels: 4, h: 5, w: 7 }, { h: c.size[0], w: c.size[1] }, c.mode);
    const worst = c.output.reduce((m, v, i) => Math.max(m, Math.abs(v - out[i])), 0);
    assert.ok(worst < 1e-6, `${c.mode} ${c.size}: ${worst}`);
  }
});

test('hires fix (latent): the second pass is img2img of the interpolated first-pass latents, with a fresh stream of the seed', async () => {
  await withModel('tiny-sd-eps-int64', async (model) => {
    // A stand-in denoiser: the passes' arithmetic is what is checked here, the UNet is covered above.
    const denoiser: Denoiser = async (x, sigma) => x.map((v, i) => (v * 0.5 + Math.sin(i) * 0.1) / (1 + sigma));
    const request = parseGenerateRequest({ ...base, seed: 5, hires: { scale: 1.5, steps: 4, strength: 0.6, upscaler: 'latent' } });
    const job = planJob(model, request, { width: 32, height: 32 });
    assert.deepEqual(job.output, { width: 48, height: 48 });
    const run = { seeds: [5, 6], denoiserAt: () => denoiser, timings: newTimings() };
    const both = await sampleJobBatch(model, request, job, run);
    const firstOnly = await sampleJobBatch(model, request, { ...job, passes: [job.passes[0]] }, run);
    const upscaled = upscaleLatents(firstOnly, { batch: 2, channels: 4, h: 4, w: 4 }, { h: 6, w: 6 }, 'bilinear');
    const byHand = await sampleFromLatent(
      job.passes[1].plan,
      denoiser,
      batchNoise(
        [5, 6].map((s) => createNoiseStream('torch-cpu', s)),
        4 * 6 * 6,
      ),
      upscaled,
      4 * 6 * 6,
    );
    assert.deepEqual(both, byHand);
  });
});

test('refusals: a folder without vae_encoder, init images that are not images, hires with an init image', async () => {
  await withModel('tiny-sd-eps-int64', async (model, dir) => {
    await assert.rejects(
      img2img(model, { seed: 1 }, { initImage: new TextEncoder().encode('not a picture') }),
      /the init image cannot be used: this file is not an image; PNG, JPEG and WebP images are accepted/,
    );
    await assert.rejects(generate(model, { ...base, seed: 1, initImage: 'file:x' }), /the init image file:x did not reach the engine/);
    await assert.rejects(img2img(model, { seed: 1, hires: { scale: 2 } }), /hires fix is for text to image/);
    await assert.rejects(
      generate(model, { ...base, seed: 1, hires: { scale: 4 }, width: 2048, height: 2048 }),
      /at most 4096 pixels a side|needs about/,
    );
    rmSync(join(dir, 'vae_encoder'), { recursive: true });
    const reloaded = await loadModel(dir);
    try {
      await assert.rejects(
        img2img(reloaded, { seed: 1 }),
        /has no VAE encoder \(vae_encoder\/model\.onnx\), which img2img and pixel-space hires fix need/,
      );
      await assert.rejects(generate(reloaded, { ...base, seed: 1, hires: { scale: 2, upscaler: 'lanczos' } }), /has no VAE encoder/);
      const latent = await generate(reloaded, { ...base, seed: 1, hires: { scale: 2 } });
      assert.equal(latent.images[0].width, 64, 'latent hires fix needs no encoder');
    } finally {
      await reloaded.dispose();
    }
  });
});

test('resize modes bring a non-square source to the size; transparent and 16-bit sources are noted', async () => {
  await withModel('tiny-sd-eps-int64', async (model) => {
    const wide = new Uint8Array(readFileSync(join(FIXTURES, 'inputs', 'rgba8.png')));
    const results = [];
    for (const resizeMode of ['just-resize', 'crop-and-resize', 'resize-and-fill'] as const) {
      const result = await generate(
        model,
        { ...base, seed: 2, initImage: 'file:rgba8.png', strength: 0.3, resizeMode },
        { initImage: wide },
      );
      assert.ok(result.notes.some((n) => /flattened onto white/.test(n)));
      results.push(result.images[0]);
    }
    assert.notDeepEqual(pixels(results[0].png), pixels(results[1].png));
    assert.notDeepEqual(pixels(results[1].png), pixels(results[2].png));
    assert.match(results[1].parameters, /Resize mode: Crop and resize/);
    const deep = await generate(
      model,
      { ...base, seed: 2, initImage: 'file:rgb16.png', strength: 0.3 },
      { initImage: new Uint8Array(readFileSync(join(FIXTURES, 'inputs', 'rgb16.png'))) },
    );
    assert.ok(deep.notes.some((n) => /16-bit PNG/.test(n)));
  });
});
