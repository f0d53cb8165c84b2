// Variation seeds against A1111's own formulas run by torch (tests/fixtures/variation/make_variation_vectors.py):
// each image's first draw with noiseSource 'torch-cpu' is A1111's ImageRNG.first() to float32 precision, later draws
// are the seed's own stream, the seeds of a batch are assigned as A1111's processing.py does, and the slerp's lerp
// fallback keeps A1111's argument order.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseGenerateRequest } from '../contract/generate.ts';
import { batchSeeds, batchVariation } from '../pipeline/image-seeds.ts';
import { batchNoise, createNoiseStream } from './index.ts';
import { batchNoiseOf, noiseThreadRunning, startNoiseThread } from './noise-thread.ts';
import { imageStreams, slerpNoise } from './variation.ts';
import { assertMatches, variationVectors, type Summary } from './variation-testing.ts';

interface Vector {
  name: string;
  shape: [number, number, number];
  seed: number;
  variationSeed: number;
  strength: number;
  batchSize: number;
  images: Array<{ seed: number; variationSeed: number; fallback: boolean; first: Summary; later: Summary }>;
}
interface SlerpVector {
  name: string;
  shape: [number, number, number];
  lowSeed: number;
  otherSeed: number;
  otherScale: number;
  strength: number;
  result: Summary;
}

const VECTORS = variationVectors<{ vectors: Vector[]; slerp: SlerpVector[] }>();

test('the reference vectors cover what A1111 does: strength 1, tiny strengths, the lerp fallback, a batch', () => {
  const strengths = VECTORS.vectors.map((v) => v.strength);
  assert.ok(strengths.includes(1) && strengths.some((s) => s < 0.02));
  assert.ok(VECTORS.vectors.some((v) => v.images.some((image) => image.fallback)));
  assert.ok(VECTORS.vectors.some((v) => v.batchSize > 1));
});

for (const vector of VECTORS.vectors) {
  test(`torch-cpu first and later noise match A1111: ${vector.name}`, () => {
    const request = parseGenerateRequest({
      prompt: '',
      seed: vector.seed,
      batchSize: vector.batchSize,
      variationSeed: vector.variationSeed,
      variationStrength: vector.strength,
      noiseSource: 'torch-cpu',
    });
    // The engine's own assignment of seeds and variation seeds to the batch's images (processing.py's).
    const { seeds, variationSeeds } = batchSeeds(request, 0);
    assert.deepEqual(
      seeds.map((seed, i) => [seed, variationSeeds?.[i]]),
      vector.images.map((image) => [image.seed, image.variationSeed]),
    );
    const perImage = vector.shape.reduce((a, b) => a * b);
    const variation = batchVariation(request, variationSeeds, vector.shape);
    for (const noise of [
      batchNoise(imageStreams('torch-cpu', seeds, { variation }), perImage),
      batchNoiseOf('torch-cpu', seeds, perImage, { variation }),
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

test("the lerp fallback weighs the seed's noise by the strength, as A1111's slerp does", () => {
  for (const vector of VECTORS.slerp) {
    const n = vector.shape.reduce((a, b) => a * b);
    const low = createNoiseStream('torch-cpu', vector.lowSeed).randn(n);
    const other = createNoiseStream('torch-cpu', vector.otherSeed).randn(n);
    // torch: float32 tensor + python float x float32 tensor, each rounded to float32.
    const scale = Math.fround(vector.otherScale);
    const high = low.map((value, i) => Math.fround(value + Math.fround(scale * other[i])));
    assertMatches(slerpNoise(vector.strength, low, high, vector.shape), vector.result, vector.name);
  }
});

test("strength 1 gives the variation seed's first noise exactly, and later draws stay the seed's own", () => {
  const shape = [4, 8, 8] as const;
  for (const source of ['torch-cpu', 'torch-cuda', 'default']) {
    const [varied] = imageStreams(source, [3], { variation: { seeds: [99], strength: 1, shape } });
    const own = createNoiseStream(source, 3),
      other = createNoiseStream(source, 99);
    assert.deepEqual(varied.randn(256), other.randn(256), source);
    own.randn(256);
    assert.deepEqual(varied.randn(256), own.randn(256), `${source}: the second draw`);
  }
});

test("the app's own generator is varied by the same formula", () => {
  const shape = [4, 6, 10] as const;
  const [varied] = imageStreams('default', [12], { variation: { seeds: [34], strength: 0.4, shape } });
  const expected = slerpNoise(0.4, createNoiseStream('default', 12).randn(240), createNoiseStream('default', 34).randn(240), shape);
  assert.deepEqual(varied.randn(240), expected);
  const plain = createNoiseStream('default', 12).randn(240);
  assert.ok(
    expected.some((value, i) => Math.abs(value - plain[i]) > 0.1),
    'strength 0.4 changes the noise',
  );
});

test('bad variation seeds are refused before anything is drawn', () => {
  const shape = [1, 2, 2] as const;
  assert.throws(
    () => imageStreams('torch-cpu', [1], { variation: { seeds: [-1], strength: 0.5, shape } }),
    /seed must be a whole number from 0 to 2\^64-1 \(got -1\)/,
  );
  assert.throws(
    () => imageStreams('torch-cpu', [1, 2], { variation: { seeds: [5], strength: 0.5, shape } }),
    /variation seeds: 1 for 2 images/,
  );
  const [stream] = imageStreams('torch-cpu', [1], { variation: { seeds: [5], strength: 0.5, shape } });
  assert.throws(() => stream.randn(5), /5 and 5 values for a 1x2x2 latent \(4\)/);
});

test("the engine's noise thread draws the same varied noise as the main thread, for every source", async () => {
  await startNoiseThread();
  assert.ok(noiseThreadRunning());
  const shape = [4, 6, 5] as const,
    perImage = 120;
  for (const source of ['default', 'torch-cpu', 'torch-cuda']) {
    const variation = { seeds: [40, 41], strength: 0.35, shape };
    const here = batchNoise(imageStreams(source, [9, 9], { variation }), perImage);
    const threaded = batchNoiseOf(source, [9, 9], perImage, { variation });
    threaded.prefetch!();
    for (let draw = 0; draw < 3; draw++) assert.deepEqual(threaded(), here(), `${source}, draw ${draw}`);
  }
});
