// Hires fix's "resize to" (A1111's hr_resize_x/hr_resize_y): the target size, the crop of the upscaled latents
// against torch (fixtures/hires/make_hires_resize_vectors.py), the request checks, and real runs on the tiny SD 1
// model: the image's size, the second pass built from the cropped latents, PNG parameters both ways.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decode } from 'fast-png';
import type { StableDiffusionModel } from '../src-core/model/model.ts';
import { generate } from '../src-core/pipeline/txt2img.ts';
import { readTextChunks } from '../src-core/png/text-chunks.ts';
import { parametersToRequest } from '../src-core/pipeline/metadata.ts';
import { pngToRequest } from '../src-core/pipeline/png-import.ts';
import { upscaleLatents } from '../src-core/pipeline/hires.ts';
import { cropLatents } from '../src-core/pipeline/hires-size.ts';
import { hiresGeometry } from '../src-core/contract/hires-geometry.ts';
import { planJob, sampleJobBatch } from '../src-core/pipeline/passes.ts';
import { sampleFromLatent } from '../src-core/pipeline/img2img.ts';
import { parseGenerateRequest, GenerateRequestSchema } from '../src-core/contract/generate.ts';
import { newTimings } from '../src-core/pipeline/components.ts';
import { batchNoise, createNoiseStream } from '../src-core/noise/index.ts';
import type { Denoiser } from '../src-core/samplers/types.ts';
import { parseCli } from '../src-core/cli/generate.ts';
import { withFixtureModel } from './helpers/model-folders.ts';

const base = {
  prompt: 'a red circle on a blue background',
  negativePrompt: 'green',
  steps: 4,
  cfgScale: 5,
  noiseSource: 'torch-cpu' as const,
};

const withModel = (run: (model: StableDiffusionModel) => Promise<void>) => withFixtureModel('tiny-sd-eps-int64', run);

interface ResizeCase {
  first: [number, number];
  resize: [number, number];
  mode: 'bilinear' | 'nearest-exact';
  upscale_to: [number, number];
  truncate: [number, number];
  output_latent_hw: [number, number];
  input: number[];
  output: number[];
}

test('resize targets and crops match A1111 (its formulas, torch interpolate and slicing)', () => {
  const ref = JSON.parse(readFileSync(join(import.meta.dirname, 'fixtures', 'hires', 'hires-resize.json'), 'utf8')) as {
    cases: ResizeCase[];
  };
  assert.ok(ref.cases.some((c) => c.truncate[0] > 0) && ref.cases.some((c) => c.truncate[1] % 2 === 1), 'crops on both axes, odd ones');
  for (const c of ref.cases) {
    const [w, h] = c.first,
      label = `${w}x${h} -> ${c.resize.join('x')}`;
    const g = hiresGeometry({ width: w, height: h }, { resize: { width: c.resize[0], height: c.resize[1] } }, 8);
    assert.deepEqual(
      [g.upscale.width, g.upscale.height],
      [Math.floor(c.upscale_to[0] / 8) * 8, Math.floor(c.upscale_to[1] / 8) * 8],
      label,
    );
    assert.deepEqual([g.output.height / 8, g.output.width / 8], c.output_latent_hw, label);
    const to = { h: g.upscale.height / 8, w: g.upscale.width / 8 };
    const whole = upscaleLatents(Float64Array.from(c.input), { batch: 1, channels: 4, h: h / 8, w: w / 8 }, to, c.mode);
    const out = cropLatents(whole, { planes: 4, ...to }, g.crop);
    assert.equal(out.length, c.output.length, label);
    const worst = c.output.reduce((m, v, i) => Math.max(m, Math.abs(v - out[i])), 0);
    assert.ok(worst < 1e-9, `${label}: ${worst}`);
  }
});

test('the request: a resize side instead of a scale, refused in words without either or with a tiny side', () => {
  assert.equal(parseGenerateRequest({ prompt: '', seed: 1, hires: { resizeWidth: 96 } }).hires?.resizeWidth, 96);
  const problem = (hires: object) => GenerateRequestSchema.safeParse({ prompt: '', seed: 1, hires }).error?.issues[0]?.message ?? '';
  assert.match(problem({ steps: 3 }), /hires fix needs an upscale factor \(scale\) or a size to resize to/);
  assert.match(problem({ resizeWidth: 0, resizeHeight: 0 }), /needs an upscale factor/);
  assert.match(problem({ resizeWidth: 4 }), /must be 0 \(keep the aspect\) or at least 8 pixels/);
  const tall = () => hiresGeometry({ width: 512, height: 1024 }, { resize: { width: 4096, height: 0 } }, 8, false);
  assert.throws(tall, /resizing to 4096x0 would make 4096x8192 images; at most 4096 pixels a side/);
  // The Lanczos upscaler encodes the whole upscale before the crop: 512x2048 covering 4096x4096 is 4096x16384.
  assert.throws(
    () => hiresGeometry({ width: 512, height: 2048 }, { resize: { width: 4096, height: 1024 } }, 8, true),
    /upscales to 4096x16384 before cropping/,
  );
});

test('CLI --hires-resize WxH sets the resize sides (0 keeps the aspect), without --hires-scale', () => {
  const parsed = parseCli(['--prompt', 'x', '--seed', '1', '--hires-resize', '96x0', '--hires-steps', '3']);
  assert.ok(parsed !== 'help');
  assert.deepEqual(parsed.request.hires, { resizeWidth: 96, resizeHeight: 0, steps: 3 });
  assert.throws(() => parseCli(['--prompt', 'x', '--hires-resize', '96']), /--hires-resize takes WIDTHxHEIGHT/);
  assert.throws(() => parseCli(['--prompt', 'x', '--hires-resize', '0x0']), /resizes nothing/);
});

test('resize to another aspect: the second pass is img2img of the upscaled latents cropped, its noise at the cropped size', async () => {
  await withModel(async (model) => {
    const denoiser: Denoiser = async (x, sigma) => x.map((v, i) => (v * 0.5 + Math.sin(i) * 0.1) / (1 + sigma));
    // 32x32 to 48x40: upscaled to 48x48 (6x6 cells), truncate_y = (48 - 40) // 8 = 1: the bottom row cut.
    const request = parseGenerateRequest({ ...base, seed: 5, hires: { resizeWidth: 48, resizeHeight: 40, steps: 3, strength: 0.6 } });
    const job = planJob(model, request, { width: 32, height: 32 });
    assert.deepEqual(job.output, { width: 48, height: 40 });
    const run = { seeds: [5, 6], denoiserAt: () => denoiser, timings: newTimings() };
    const both = await sampleJobBatch(model, request, job, run);
    const firstOnly = await sampleJobBatch(model, request, { ...job, passes: [job.passes[0]] }, run);
    const whole = upscaleLatents(firstOnly, { batch: 2, channels: 4, h: 4, w: 4 }, { h: 6, w: 6 }, 'bilinear');
    const cropped = new Float64Array(8 * 5 * 6);
    for (let p = 0; p < 8; p++) cropped.set(whole.subarray(p * 36, p * 36 + 30), p * 30);
    const noise = batchNoise(
      [5, 6].map((s) => createNoiseStream('torch-cpu', s)),
      4 * 5 * 6,
    );
    assert.deepEqual(both, await sampleFromLatent(job.passes[1].plan, denoiser, noise, cropped, 4 * 5 * 6));
  });
});

test('real runs: one resize side equals the same scale; both sides crop; "Hires resize" round-trips through the PNG', async () => {
  await withModel(async (model) => {
    const pixels = (png: Buffer) => decode(png).data;
    const hires = { steps: 2, strength: 0.6 };
    const byScale = (await generate(model, { ...base, seed: 3, hires: { ...hires, scale: 1.5 } })).images[0];
    const byWidth = (await generate(model, { ...base, seed: 3, hires: { ...hires, resizeWidth: 48 } })).images[0];
    assert.deepEqual([byWidth.width, byWidth.height], [48, 48]);
    assert.deepEqual(pixels(byWidth.png), pixels(byScale.png), '48x0 from 32x32 is the 1.5 upscale');
    const text = readTextChunks(byWidth.png).parameters;
    assert.match(text, /Denoising strength: 0\.6, Hires resize: 48x0, Hires steps: 2, Hires upscaler: Latent/);
    assert.doesNotMatch(text, /Hires upscale:/);
    assert.deepEqual(parametersToRequest(text).request.hires, { resizeWidth: 48, steps: 2, strength: 0.6, upscaler: 'latent' });

    for (const upscaler of ['latent', 'lanczos'] as const) {
      const cropped = (await generate(model, { ...base, seed: 3, hires: { ...hires, upscaler, resizeWidth: 48, resizeHeight: 40 } }))
        .images[0];
      assert.deepEqual([cropped.width, cropped.height], [48, 40], upscaler);
      const back = pngToRequest(cropped.png);
      assert.deepEqual(back.request.hires, { resizeWidth: 48, resizeHeight: 40, steps: 2, strength: 0.6, upscaler }, upscaler);
      assert.deepEqual(back.notes, []);
    }
    // A1111's own infotext: a resize (no "Hires upscale"), and one that is not a size.
    const a1111 = parametersToRequest('a cat\nSteps: 20, Seed: 1, Size: 512x768, Denoising strength: 0.5, Hires resize: 1024x1536');
    assert.deepEqual(a1111.request.hires, { resizeWidth: 1024, resizeHeight: 1536, strength: 0.5 });
    assert.deepEqual(a1111.notes, []);
    const bad = parametersToRequest('a cat\nSteps: 20, Seed: 1, Hires upscale: 2, Hires resize: big');
    assert.deepEqual(bad.request.hires, { scale: 2 });
    assert.match(bad.notes.join('\n'), /"Hires resize: big" is not a size this app can resize to/);
  });
});
