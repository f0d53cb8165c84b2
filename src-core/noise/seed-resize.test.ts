// "Seed resize from" against A1111's own formulas run by torch (tests/fixtures/variation/make_variation_vectors.py,
// its seedResize cases): each image's first draw with noiseSource 'torch-cpu' is ImageRNG.first() with
// seed_resize_from_w/h to float32 precision (the seed's noise drawn at the other size, slerped there towards the
// variation seed's, pasted centred), later draws stay the seed's own stream, on the main thread and in the noise thread.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseGenerateRequest, RequestError } from '../contract/generate.ts';
import { batchSeedResize, batchSeeds, batchVariation } from '../pipeline/image-seeds.ts';
import { batchNoise, createNoiseStream } from './index.ts';
import { batchNoiseOf, noiseThreadRunning, startNoiseThread } from './noise-thread.ts';
import { pasteCentred } from './seed-resize.ts';
import { imageStreams } from './variation.ts';
import { assertMatches, variationVectors, type Summary } from './variation-testing.ts';

interface ResizeVector {
  name: string;
  shape: [number, number, number];
  seed: number;
  variationSeed: number | null;
  strength: number;
  batchSize: number;
  /** [width, height] in pixels, as A1111's seed_resize_from_w, seed_resize_from_h. */
  resizeFrom: [number, number];
  noiseShape: [number, number, number];
  images: Array<{ seed: number; variationSeed?: number; first: Summary; later: Summary }>;
}

const VECTORS = variationVectors<{ seedResize: ResizeVector[] }>().seedResize;

test('the resize vectors cover smaller, larger, mixed, odd margins, the same size and a variation seed', () => {
  const smaller = (v: ResizeVector) => v.noiseShape[1] < v.shape[1] && v.noiseShape[2] < v.shape[2];
  const larger = (v: ResizeVector) => v.noiseShape[1] > v.shape[1] && v.noiseShape[2] > v.shape[2];
  assert.ok(VECTORS.some(smaller) && VECTORS.some(larger));
  assert.ok(
    VECTORS.some((v) => v.noiseShape[1] > v.shape[1] !== v.noiseShape[2] > v.shape[2]),
    'one side smaller, the other larger',
  );
  assert.ok(
    VECTORS.some((v) => (v.shape[2] - v.noiseShape[2]) % 2 !== 0 && v.noiseShape[2] > v.shape[2]),
    'an odd larger margin',
  );
  assert.ok(VECTORS.some((v) => v.resizeFrom.some((side) => side % 8 !== 0)));
  assert.ok(VECTORS.some((v) => v.strength > 0 && v.batchSize > 1) && VECTORS.some((v) => v.strength === 1));
});

for (const vector of VECTORS) {
  test(`torch-cpu first and later noise match A1111 with seed resize: ${vector.name}`, async () => {
    await startNoiseThread();
    assert.ok(noiseThreadRunning(), 'batchNoiseOf draws in the noise thread');
    const [width, height] = vector.resizeFrom;
    const request = parseGenerateRequest({
      prompt: '',
      seed: vector.seed,
      batchSize: vector.batchSize,
      ...(vector.strength ? { variationSeed: vector.variationSeed!, variationStrength: vector.strength } : {}),
      seedResizeFromWidth: width,
      seedResizeFromHeight: height,
      noiseSource: 'torch-cpu',
    });
    const { seeds, variationSeeds } = batchSeeds(request, 0);
    assert.deepEqual(
      seeds,
      vector.images.map((image) => image.seed),
    );
    const perImage = vector.shape.reduce((a, b) => a * b);
    const variation = batchVariation(request, variationSeeds, vector.shape);
    // A1111's factor is 8 (h // 8, w // 8): the vectors' VAE factor.
    const resize = batchSeedResize(request, 8, vector.shape);
    assert.deepEqual(resize?.from, vector.noiseShape.slice(1));
    for (const noise of [
      batchNoise(imageStreams('torch-cpu', seeds, { variation, resize }), perImage),
      batchNoiseOf('torch-cpu', seeds, perImage, { variation, resize }),
    ]) {
      const first = noise(),
        later = noise();
      vector.images.forEach((image, i) => {
        assertMatches(first.subarray(i * perImage, (i + 1) * perImage), image.first, `image ${i} first draw`);
        assertMatches(later.subarray(i * perImage, (i + 1) * perImage), image.later, `image ${i} later draw`);
      });
    }
  });
}

test("the paste follows A1111's slices: centred when smaller, the middle when larger, its last column kept when odd", () => {
  const numbered = (n: number, offset: number) => Float64Array.from({ length: n }, (_, i) => offset + i);
  // 1x2x3 into 1x4x4: margins (4 - 2) // 2 = 1 and (4 - 3) // 2 = 0.
  assert.deepEqual(
    Array.from(pasteCentred(numbered(6, 100), [1, 2, 3], numbered(16, 0), [1, 4, 4])),
    [0, 1, 2, 3, 100, 101, 102, 7, 103, 104, 105, 11, 12, 13, 14, 15],
  );
  // 1x1x5 into 1x1x2: dx = (2 - 5) // 2 = -2 (Python floors), w = 5 - 4 = 1: noise[2] goes to column 0, column 1 stays.
  assert.deepEqual(Array.from(pasteCentred(numbered(5, 100), [1, 1, 5], numbered(2, 0), [1, 1, 2])), [102, 1]);
  assert.throws(() => pasteCentred(numbered(6, 0), [1, 2, 3], numbered(8, 0), [2, 2, 2]), /seed resize: cannot paste 6 values/);
});

test('every noise source is resized the same way; the same size and no resize leave the noise as it was', () => {
  const shape = [4, 6, 10] as const,
    perImage = 240;
  for (const source of ['default', 'torch-cpu', 'torch-cuda']) {
    const [resized] = imageStreams(source, [12], { resize: { from: [3, 14], shape } });
    const small = createNoiseStream(source, 12).randn(4 * 3 * 14);
    const own = createNoiseStream(source, 12);
    const expected = pasteCentred(small, [4, 3, 14], own.randn(perImage), shape);
    assert.deepEqual(resized.randn(perImage), expected, source);
    assert.deepEqual(resized.randn(perImage), own.randn(perImage), `${source}: the second draw is the seed's own`);
    const [same] = imageStreams(source, [12], { resize: { from: [6, 10], shape } });
    assert.deepEqual(same.randn(perImage), createNoiseStream(source, 12).randn(perImage), `${source}: the image's own size`);
  }
});

test("A1111's // 8 is the model's VAE factor here; a resize smaller than one latent cell is refused in words", () => {
  const request = parseGenerateRequest({ prompt: '', seed: 1, seedResizeFromWidth: 100, seedResizeFromHeight: 60 });
  assert.deepEqual(batchSeedResize(request, 4, [4, 16, 16])?.from, [15, 25]);
  assert.deepEqual(batchSeedResize(request, 8, [4, 8, 8])?.from, [7, 12]);
  const off = parseGenerateRequest({ prompt: '', seed: 1, seedResizeFromWidth: 0, seedResizeFromHeight: 60 });
  assert.equal(batchSeedResize(off, 8, [4, 8, 8]), undefined);
  const tiny = parseGenerateRequest({ prompt: '', seed: 1, seedResizeFromWidth: 8, seedResizeFromHeight: 8 });
  assert.throws(
    () => batchSeedResize(tiny, 16, [4, 8, 8]),
    (error: Error) => error instanceof RequestError && /seed resize from 8x8 is smaller than one latent cell/.test(error.message),
  );
});
