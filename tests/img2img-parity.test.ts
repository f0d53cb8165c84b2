// img2img against diffusers' StableDiffusionImg2ImgPipeline (issue 23): the importer's tiny SD 1 model
// (tests/fixtures/import/sd1/diffusers, imported to ONNX here), Euler with Karras sigmas, torch CPU noise,
// strengths 0.3, 0.6 and 1.0, the same 64x64 input. References and the aligned conventions (A1111's step
// count, the posterior mean): tests/fixtures/img2img/make_img2img_references.py. Images within 1/255. With A1111's
// img2img noise multiplier too: the same pipeline with its noise draw multiplied (img2img-noise-multiplier.json).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { importModel } from '../src-core/import/importer.ts';
import { loadModel } from '../src-core/model/model.ts';
import { generate } from '../src-core/pipeline/txt2img.ts';
import { maxPixelDifference } from './helpers/references.ts';

const DIR = join(import.meta.dirname, 'fixtures', 'img2img');
const references = JSON.parse(readFileSync(join(DIR, 'references', 'img2img.json'), 'utf8')) as {
  steps: number;
  guidance_scale: number;
  prompt: string;
  images: Array<{ file: string; strength: number; seed: number; steps_run: number; start_sigma: number }>;
};
const multiplied = JSON.parse(readFileSync(join(DIR, 'references', 'img2img-noise-multiplier.json'), 'utf8')) as {
  images: Array<{ file: string; strength: number; seed: number; noise_multiplier: number }>;
};

test(
  'img2img matches diffusers StableDiffusionImg2ImgPipeline to 1/255 ' +
    '(Euler Karras, torch CPU noise, strength 0.3 / 0.6 / 1.0; noise multiplier 0.5 / 1.3)',
  async (t) => {
    const work = mkdtempSync(join(tmpdir(), 'img2img-parity-'));
    try {
      const dir = join(work, 'sd1');
      await importModel(join(import.meta.dirname, 'fixtures', 'import', 'sd1', 'diffusers'), { out: dir });
      const model = await loadModel(dir);
      const init = new Uint8Array(readFileSync(join(DIR, 'inputs', 'init-64.png')));
      try {
        for (const ref of references.images) {
          const result = await generate(
            model,
            {
              prompt: references.prompt,
              negativePrompt: '',
              seed: ref.seed,
              steps: references.steps,
              cfgScale: references.guidance_scale,
              sampler: 'euler',
              schedule: 'karras',
              noiseSource: 'torch-cpu',
              width: 64,
              height: 64,
              initImage: 'file:init-64.png',
              strength: ref.strength,
            },
            { initImage: init },
          );
          // A1111's step count: int(steps * strength) + 1 Euler steps, one evaluation each.
          assert.equal(result.evaluations, ref.steps_run, `${ref.file}: steps run`);
          const difference = maxPixelDifference(result.images[0].png, join(DIR, 'references', ref.file));
          t.diagnostic(
            `${ref.file}: max pixel difference ${difference}/255 (${ref.steps_run} steps from sigma ${ref.start_sigma.toFixed(4)})`,
          );
          assert.ok(difference <= 1, `${ref.file}: max pixel difference ${difference}/255`);
        }
        for (const ref of multiplied.images) {
          const result = await generate(
            model,
            {
              ...{ prompt: references.prompt, negativePrompt: '', steps: references.steps, cfgScale: references.guidance_scale },
              ...{ sampler: 'euler', schedule: 'karras', noiseSource: 'torch-cpu', width: 64, height: 64 },
              ...{ seed: ref.seed, initImage: 'file:init-64.png', strength: ref.strength, img2imgNoiseMultiplier: ref.noise_multiplier },
            },
            { initImage: init },
          );
          const difference = maxPixelDifference(result.images[0].png, join(DIR, 'references', ref.file));
          t.diagnostic(`${ref.file}: max pixel difference ${difference}/255 (noise multiplier ${ref.noise_multiplier})`);
          assert.ok(difference <= 1, `${ref.file}: max pixel difference ${difference}/255`);
        }
      } finally {
        await model.dispose();
      }
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  },
);
