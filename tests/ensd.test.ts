// A1111's "Eta noise seed delta" (ENSD), whole images: the importer's tiny SD 1 model against k-diffusion's ancestral
// samplers driven as A1111 drives them, their noise after the first from seed + delta's generator
// (tests/fixtures/ensd/make_ensd_references.py, which also writes the images without the delta). Also: batches, the PNG
// key both ways, the command line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { GenerateRequestInput } from '../src-core/contract/generate.ts';
import { parseCli } from '../src-core/cli/generate.ts';
import { parametersToRequest } from '../src-core/pipeline/metadata.ts';
import { generate } from '../src-core/pipeline/txt2img.ts';
import { drivenRequest, readDrivenSettings } from './helpers/a1111-driven.ts';
import { withImportedSd1 } from './helpers/imported-model.ts';
import { maxPixelDifference } from './helpers/references.ts';

const REFERENCES = join(import.meta.dirname, 'fixtures', 'ensd', 'references');
type Image = { file: string; without: string; sampler: GenerateRequestInput['sampler']; seed: number };
const settings = readDrivenSettings<Image, { ensd: number }>(REFERENCES);
const request = (sampler: GenerateRequestInput['sampler'], seed: number, etaNoiseSeedDelta?: number) =>
  drivenRequest(settings, sampler, seed, etaNoiseSeedDelta === undefined ? {} : { etaNoiseSeedDelta });

test("Euler a and DPM++ 2S a with ENSD 31337 give A1111's images to 1/255; without it, A1111's without", async (t) => {
  await withImportedSd1(async (model) => {
    for (const image of settings.images) {
      await t.test(image.file, async () => {
        const made = (await generate(model, request(image.sampler, image.seed, settings.ensd))).images[0]!;
        const difference = maxPixelDifference(made.png, join(REFERENCES, image.file));
        assert.ok(difference <= 1, `${image.file}: max pixel difference ${difference}/255`);
        assert.match(made.parameters, new RegExp(`, ENSD: ${settings.ensd},`));
        assert.equal(parametersToRequest(made.parameters).request.etaNoiseSeedDelta, settings.ensd);
        const plain = (await generate(model, request(image.sampler, image.seed, 0))).images[0]!;
        assert.ok(maxPixelDifference(plain.png, join(REFERENCES, image.without)) <= 1, `${image.without}`);
        assert.doesNotMatch(plain.parameters, /ENSD/);
      });
    }
    await t.test('in a batch, image k draws from seed + k + delta: the same bytes as alone', async () => {
      const alone = (await generate(model, request('euler_ancestral', 8, settings.ensd))).images[0]!;
      const batch = await generate(model, { ...request('euler_ancestral', 7, settings.ensd), batchSize: 2 });
      assert.ok(maxPixelDifference(batch.images[0]!.png, join(REFERENCES, 'euler_ancestral-seed7-ensd31337.png')) <= 1);
      assert.ok(Buffer.compare(batch.images[1]!.png, alone.png) === 0, 'seed 8 in a batch is seed 8 alone');
    });
  });
});

test('ENSD in a PNG: a whole number is read, anything else gets a note; the command line takes --ensd', () => {
  const line = (ensd: string) => `a cat\nSteps: 20, Sampler: Euler a, Seed: 1, Size: 512x512, ENSD: ${ensd}`;
  assert.equal(parametersToRequest(line('31337')).request.etaNoiseSeedDelta, 31337);
  const bad = parametersToRequest(line('lots'));
  assert.equal(bad.request.etaNoiseSeedDelta, undefined);
  assert.match(bad.notes.join('\n'), /ENSD "lots" in the file is not a whole number from 0 to 4294967295; using 0/);
  const cli = (...args: string[]) => {
    const parsed = parseCli(['--prompt', 'a cat', ...args]);
    if (parsed === 'help') throw new Error('not a run');
    return parsed.request;
  };
  assert.equal(cli('--ensd', '31337').etaNoiseSeedDelta, 31337);
  assert.equal(cli().etaNoiseSeedDelta, undefined);
  assert.throws(() => cli('--ensd=-1'), /--ensd -1/);
  assert.throws(() => cli('--ensd', '1.5'), /--ensd 1.5/);
});
