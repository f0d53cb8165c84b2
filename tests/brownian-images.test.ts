// A1111's SDE samplers with its Brownian tree noise, whole images: the importer's tiny SD 1 model against k-diffusion's
// samplers driven as A1111 drives them over diffusers' UNet and VAE (tests/fixtures/brownian/make_brownian_references.py,
// which also shows that independent draws in place of the tree move the images by up to 198/255).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { generate } from '../src-core/pipeline/txt2img.ts';
import type { GenerateRequestInput } from '../src-core/contract/generate.ts';
import { drivenRequest, readDrivenSettings } from './helpers/a1111-driven.ts';
import { withImportedSd1 } from './helpers/imported-model.ts';
import { maxPixelDifference } from './helpers/references.ts';

const REFERENCES = join(import.meta.dirname, 'fixtures', 'brownian', 'references');
const settings = readDrivenSettings<{ file: string; sampler: GenerateRequestInput['sampler']; seed: number }>(REFERENCES);
const request = (sampler: GenerateRequestInput['sampler'], seed: number) => drivenRequest(settings, sampler, seed);

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
