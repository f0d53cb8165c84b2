// Variation seeds through the whole engine (real onnxruntime sessions on the tiny SD 1 fixture): strength 0 leaves the
// images as they were, a strength changes them, and what A1111's formula implies at strength 1 (the first noise is the
// variation seed's exactly; later noise stays the seed's) holds for text to image, hires fix's second pass and img2img.
// A batch keeps the seed and counts the variation seed up, and the PNG keys go both ways as A1111 writes them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decode } from 'fast-png';
import { parseGenerateRequest, RequestError, type GenerateRequestInput } from '../src-core/contract/generate.ts';
import type { StableDiffusionModel } from '../src-core/model/model.ts';
import { parametersToRequest } from '../src-core/pipeline/metadata.ts';
import { generate } from '../src-core/pipeline/txt2img.ts';
import { withFixtureModel } from './helpers/model-folders.ts';

const INIT = new Uint8Array(readFileSync(join(import.meta.dirname, 'fixtures', 'img2img', 'inputs', 'init-64.png')));
const base: GenerateRequestInput = {
  prompt: 'a red circle on a blue background',
  steps: 6,
  cfgScale: 5,
  noiseSource: 'torch-cpu',
  seed: 7,
};

const withModel = (run: (model: StableDiffusionModel) => Promise<void>) => withFixtureModel('tiny-sd-eps-int64', run);

const pixels = (png: Buffer) => Array.from(decode(png).data);
const run = (model: StableDiffusionModel, request: Partial<GenerateRequestInput>) =>
  generate(model, { ...base, ...request }, request.initImage ? { initImage: INIT } : {});

const KINDS: Array<[string, Partial<GenerateRequestInput>]> = [
  ['text to image', {}],
  ['hires fix', { hires: { scale: 2, steps: 3, strength: 0.6 } }],
  ['img2img', { initImage: 'file:init-64.png', strength: 0.7 }],
];

test('strength 0 gives the same PNGs as no variation; a strength changes the image', async () => {
  await withModel(async (model) => {
    for (const [kind, request] of KINDS) {
      const plain = await run(model, request);
      const off = await run(model, { ...request, variationSeed: 1234, variationStrength: 0 });
      assert.deepEqual(off.images[0].png, plain.images[0].png, `${kind}: strength 0`);
      assert.doesNotMatch(off.images[0].parameters, /Variation seed/);
      const varied = await run(model, { ...request, variationSeed: 1234, variationStrength: 0.3 });
      const a = pixels(plain.images[0].png),
        b = pixels(varied.images[0].png);
      const meanChange = a.reduce((sum, value, i) => sum + Math.abs(value - b[i]), 0) / a.length;
      assert.ok(meanChange > 1, `${kind}: strength 0.3 changed the channel values by ${meanChange.toFixed(2)} on average`);
    }
  });
});

test("strength 1 with a deterministic sampler gives the variation seed's image, in every pass", async () => {
  await withModel(async (model) => {
    for (const [kind, request] of KINDS) {
      const varied = await run(model, { ...request, sampler: 'euler', seed: 7, variationSeed: 99, variationStrength: 1 });
      const other = await run(model, { ...request, sampler: 'euler', seed: 99 });
      assert.deepEqual(pixels(varied.images[0].png), pixels(other.images[0].png), kind);
    }
  });
});

test("Euler a's later noise stays the seed's: strength 1 is not the variation seed's image", async () => {
  await withModel(async (model) => {
    const varied = await run(model, { sampler: 'euler_ancestral', seed: 7, variationSeed: 99, variationStrength: 1 });
    const other = await run(model, { sampler: 'euler_ancestral', seed: 99 });
    const seedOnly = await run(model, { sampler: 'euler_ancestral', seed: 7 });
    assert.notDeepEqual(pixels(varied.images[0].png), pixels(other.images[0].png));
    assert.notDeepEqual(pixels(varied.images[0].png), pixels(seedOnly.images[0].png));
  });
});

test('a batch keeps the seed and counts the variation seed up; each image is the one its own run makes', async () => {
  await withModel(async (model) => {
    const request = { sampler: 'euler_ancestral' as const, seed: 7, variationSeed: 500, variationStrength: 0.3 };
    const batch = await run(model, { ...request, count: 2, batchSize: 2 });
    assert.deepEqual(
      batch.images.map((image) => [image.seed, image.variationSeed]),
      [
        [7, 500],
        [7, 501],
        [7, 502],
        [7, 503],
      ],
    );
    const single = await run(model, { ...request, variationSeed: 503 });
    assert.deepEqual(single.images[0].png, batch.images[3].png);
    assert.match(batch.images[2].parameters, /, Seed: 7, .*, Variation seed: 502, Variation seed strength: 0\.3, /);
    const read = parametersToRequest(batch.images[2].parameters);
    assert.equal(read.request.variationSeed, 502);
    assert.equal(read.request.variationStrength, 0.3);
    assert.equal(read.request.seed, 7);
    assert.deepEqual(read.notes, []);
  });
});

test("A1111's variation keys are read as it pastes them, Seed resize from too", () => {
  const text =
    'a castle\nSteps: 20, Sampler: Euler a, CFG scale: 7, Seed: 1, Size: 512x512, Model hash: abc, ' +
    'Variation seed: 2, Variation seed strength: 0.25, Seed resize from: 256x384, Version: v1.10.1';
  const read = parametersToRequest(text);
  assert.equal(read.request.variationSeed, 2);
  assert.equal(read.request.variationStrength, 0.25);
  assert.equal(read.request.seedResizeFromWidth, 256);
  assert.equal(read.request.seedResizeFromHeight, 384);
  assert.deepEqual(read.notes, []);
  const plain = parametersToRequest('a castle\nSteps: 20, Sampler: Euler a, CFG scale: 7, Seed: 1, Size: 512x512');
  assert.equal(plain.request.variationStrength, undefined);
  assert.equal(plain.request.variationSeed, undefined);
});

test('the request refuses variation settings outside their ranges, in words', () => {
  const refused: Array<[Partial<GenerateRequestInput>, RegExp]> = [
    [{ variationStrength: 0.5 }, /variationSeed: a variation strength over 0 needs a variation seed/],
    [{ variationSeed: 1, variationStrength: 1.5 }, /variationStrength: Too big/],
    [{ variationSeed: 1, variationStrength: -0.1 }, /variationStrength: Too small/],
    [{ variationSeed: 1.5, variationStrength: 0.1 }, /variationSeed: .*int/i],
    [{ variationSeed: -1, variationStrength: 0.1 }, /variationSeed: Too small/],
    [
      { variationSeed: Number.MAX_SAFE_INTEGER, variationStrength: 0.1, batchSize: 2 },
      /variation seed 9007199254740991 with 2 images would pass 9007199254740991/,
    ],
  ];
  for (const [fields, message] of refused) {
    assert.throws(
      () => parseGenerateRequest({ ...base, ...fields }),
      (e: unknown) => e instanceof RequestError && message.test(e.message),
    );
  }
  // Strength 0 needs no seed; a seed without strength is accepted (it is simply off).
  parseGenerateRequest({ ...base, variationStrength: 0 });
  parseGenerateRequest({ ...base, variationSeed: 3 });
});
