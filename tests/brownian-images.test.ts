// A1111's SDE samplers with its Brownian tree noise, whole images: the importer's tiny SD 1 model against k-diffusion's
// samplers driven as A1111 drives them over diffusers' UNet and VAE (tests/fixtures/brownian/make_brownian_references.py,
// which also shows that independent draws in place of the tree move the images by up to 198/255).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { generate } from '../src-core/pipeline/txt2img.ts';
import { withImportedSd1 } from './helpers/imported-sd1.ts';
import { maxPixelDifference } from './helpers/references.ts';
import type { GenerateRequestInput } from '../src-core/contract/generate.ts';

const FIXTURES = join(import.meta.dirname, 'fixtures');
const REFERENCES = join(FIXTURES, 'brownian', 'references');
const settings = JSON.parse(readFileSync(join(REFERENCES, 'images.json'), 'utf8')) as {
  prompt: string;
  negative_prompt: string;
  steps: number;
  guidance_scale: number;
  width: number;
  height: number;
  images: { file: string; sampler: GenerateRequestInput['sampler']; seed: number }[];
};

const request = (sampler: GenerateRequestInput['sampler'], seed: number): GenerateRequestInput => ({
  prompt: settings.prompt,
  negativePrompt: settings.negative_prompt,
  seed,
  steps: settings.steps,
  cfgScale: settings.guidance_scale,
  sampler,
  schedule: 'karras',
  noiseSource: 'torch-cpu',
  width: settings.width,
  height: settings.height,
});

test("DPM++ SDE, 2M SDE, 2M SDE Heun and 3M SDE give A1111's images to 1/255, batches included", async (t) => {
  await withImportedSd1(async (model) => {
    for (const image of settings.images) {
      await t.test(`${image.file}`, async () => {
        const made = (await generate(model, request(image.sampler, image.seed))).images[0]!;
        const difference = maxPixelDifference(made.png, join(REFERENCES, image.file));
        assert.ok(difference <= 1, `${image.file}: max pixel difference ${difference}/255`);
      });
    }
    await t.test('an image does not depend on its batch: one tree per image, seeded with its own seed', async () => {
      const alone = (await generate(model, request('dpmpp_2m_sde', 8))).images[0]!;
      const batch = await generate(model, { ...request('dpmpp_2m_sde', 7), batchSize: 2 });
      assert.equal(batch.images.length, 2);
      assert.ok(maxPixelDifference(batch.images[0]!.png, join(REFERENCES, 'dpmpp_2m_sde-seed7.png')) <= 1);
      assert.ok(Buffer.compare(batch.images[1]!.png, alone.png) === 0, 'seed 8 in a batch is seed 8 alone, byte for byte');
    });
  });
});
