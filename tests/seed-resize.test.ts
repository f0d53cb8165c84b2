// "Seed resize from" through the whole engine (real onnxruntime sessions): off (absent, or 0) leaves the PNGs as they
// were, a resize changes the image in text to image, hires fix's second pass and img2img, and its PNG key goes both
// ways as A1111 writes it. A1111's // 8 is the model's VAE factor: on the built-in model (4 pixels a latent cell) a
// resize from the image's own latent size gives the plain image. The noise itself is checked against torch in
// src-core/noise/seed-resize.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decode } from 'fast-png';
import { parseGenerateRequest, RequestError, type GenerateRequestInput } from '../src-core/contract/generate.ts';
import { DEFAULT_MODEL_DIR } from '../src-core/model/default-model.ts';
import { loadModel, type StableDiffusionModel } from '../src-core/model/model.ts';
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

const pixels = (png: Buffer) => Array.from(decode(png).data);
const meanChange = (a: number[], b: number[]) => a.reduce((sum, value, i) => sum + Math.abs(value - b[i]), 0) / a.length;
const run = (model: StableDiffusionModel, request: Partial<GenerateRequestInput>) =>
  generate(model, { ...base, ...request }, request.initImage ? { initImage: INIT } : {});

const KINDS: Array<[string, Partial<GenerateRequestInput>]> = [
  ['text to image', {}],
  ['hires fix', { hires: { scale: 2, steps: 3, strength: 0.6 } }],
  ['img2img', { initImage: 'file:init-64.png', strength: 0.7 }],
];

test('seed resize off gives the same PNGs; on, it changes the image in every pass and its key goes both ways', async () => {
  await withFixtureModel('tiny-sd-eps-int64', async (model) => {
    for (const [kind, request] of KINDS) {
      const plain = await run(model, request);
      const off = await run(model, { ...request, seedResizeFromWidth: 0, seedResizeFromHeight: 0 });
      assert.deepEqual(off.images[0].png, plain.images[0].png, `${kind}: 0x0 is off`);
      assert.doesNotMatch(off.images[0].parameters, /Seed resize from/);
      const halfOff = await run(model, { ...request, seedResizeFromWidth: 48, seedResizeFromHeight: 0 });
      assert.deepEqual(halfOff.images[0].png, plain.images[0].png, `${kind}: a side of 0 is off, as in A1111`);

      const resized = await run(model, { ...request, seedResizeFromWidth: 48, seedResizeFromHeight: 40 });
      const change = meanChange(pixels(plain.images[0].png), pixels(resized.images[0].png));
      assert.ok(change > 1, `${kind}: resizing the seed from 48x40 changed the channel values by ${change.toFixed(2)} on average`);
      const parameters = resized.images[0].parameters;
      assert.match(parameters, /, Seed: 7, Size: \d+x\d+, Model: [^,]+, Seed resize from: 48x40, RNG: CPU, /);
      const read = parametersToRequest(parameters);
      assert.equal(read.request.seedResizeFromWidth, 48);
      assert.equal(read.request.seedResizeFromHeight, 40);
      assert.deepEqual(read.notes, []);
    }
    // Hires fix's second pass is resized too (A1111 makes its ImageRNG with the resize): from the first pass's own size
    // (the model's native 32x32) the first pass draws plainly, so what changes is the second pass's start noise.
    const [, hires] = KINDS[1];
    const plain = await run(model, hires);
    const fromFirst = await run(model, { ...hires, seedResizeFromWidth: 32, seedResizeFromHeight: 32 });
    const change = meanChange(pixels(plain.images[0].png), pixels(fromFirst.images[0].png));
    assert.ok(change > 1, `hires fix's second pass from 32x32 changed the channel values by ${change.toFixed(2)} on average`);
  });
});

test('with a variation seed: both noises are resized, the keys are in A1111 order, a batch image is its own run', async () => {
  await withFixtureModel('tiny-sd-eps-int64', async (model) => {
    const request = { variationSeed: 100, variationStrength: 0.5, seedResizeFromWidth: 24, seedResizeFromHeight: 56 };
    const varied = await run(model, { variationSeed: 100, variationStrength: 0.5 });
    const both = await run(model, { ...request, batchSize: 2 });
    const change = meanChange(pixels(varied.images[0].png), pixels(both.images[0].png));
    assert.ok(change > 1, `the resize changed the varied image by ${change.toFixed(2)} on average`);
    assert.match(both.images[1].parameters, /Variation seed: 101, Variation seed strength: 0\.5, Seed resize from: 24x56, /);
    const single = await run(model, { ...request, variationSeed: 101 });
    assert.deepEqual(pixels(single.images[0].png), pixels(both.images[1].png));
  });
});

test("the resize's latent size uses the model's VAE factor: the built-in model's own size gives the plain image", async () => {
  const model = await loadModel(DEFAULT_MODEL_DIR);
  try {
    assert.equal(model.info.vaeFactor, 4, 'the built-in model has 4 pixels a latent cell (A1111 assumes 8)');
    const request = { width: 64, height: 64, steps: 4 };
    const plain = pixels((await run(model, request)).images[0].png);
    // 66 // 4 = 16 cells, the image's own: A1111's plain draw. With // 8 it would be an 8x8 noise pasted in.
    for (const side of [64, 66]) {
      const same = await run(model, { ...request, seedResizeFromWidth: side, seedResizeFromHeight: side });
      assert.deepEqual(pixels(same.images[0].png), plain, `from ${side}x${side}`);
      assert.match(same.images[0].parameters, new RegExp(`Seed resize from: ${side}x${side}, `));
    }
    const smaller = await run(model, { ...request, seedResizeFromWidth: 32, seedResizeFromHeight: 32 });
    assert.ok(meanChange(plain, pixels(smaller.images[0].png)) > 1, 'from 32x32 the image changes');
  } finally {
    await model.dispose();
  }
});

test('the request takes both sides or neither, each 0 or a size in the image limits, in words', () => {
  const refused: Array<[Partial<GenerateRequestInput>, RegExp]> = [
    [{ seedResizeFromWidth: 512 }, /seedResizeFromHeight: seed resize needs both a width and a height \(0 for off\)/],
    [{ seedResizeFromHeight: 512 }, /seedResizeFromWidth: seed resize needs both a width and a height/],
    [{ seedResizeFromWidth: 4, seedResizeFromHeight: 512 }, /seedResizeFromWidth: must be 0 \(off\) or at least 8 pixels \(got 4\)/],
    [{ seedResizeFromWidth: 512, seedResizeFromHeight: 4097 }, /seedResizeFromHeight: Too big/],
    [{ seedResizeFromWidth: -1, seedResizeFromHeight: 512 }, /seedResizeFromWidth: Too small/],
    [{ seedResizeFromWidth: 51.5, seedResizeFromHeight: 512 }, /seedResizeFromWidth: .*int/i],
  ];
  for (const [fields, message] of refused) {
    assert.throws(
      () => parseGenerateRequest({ ...base, ...fields }),
      (e: unknown) => e instanceof RequestError && message.test(e.message),
      JSON.stringify(fields),
    );
  }
  const on = parseGenerateRequest({ ...base, seedResizeFromWidth: 512, seedResizeFromHeight: 768 });
  assert.deepEqual([on.seedResizeFromWidth, on.seedResizeFromHeight], [512, 768]);
  parseGenerateRequest({ ...base, seedResizeFromWidth: 0, seedResizeFromHeight: 0 });
  parseGenerateRequest({ ...base, seedResizeFromWidth: 8, seedResizeFromHeight: 4096 });
});

test('a Seed resize from that is not WIDTHxHEIGHT is left out with a note; a file without it has none', () => {
  const text = 'a castle\nSteps: 20, Sampler: Euler a, CFG scale: 7, Seed: 1, Size: 512x512, Seed resize from: big';
  const read = parametersToRequest(text);
  assert.equal(read.request.seedResizeFromWidth, undefined);
  assert.deepEqual(read.notes, ['Seed resize from "big" in the file is not WIDTHxHEIGHT; leaving seed resize off']);
  const plain = parametersToRequest('a castle\nSteps: 20, Sampler: Euler a, CFG scale: 7, Seed: 1, Size: 512x512');
  assert.ok(!('seedResizeFromWidth' in plain.request) && !('seedResizeFromHeight' in plain.request));
});
