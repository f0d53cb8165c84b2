// The Generate form's variation seed and strength: left out of the request at strength 0 (requests read as before),
// sent with the variation seed (-1 drawn at random) otherwise, refused in words when out of range, and filled from a
// PNG's parameters (a PNG without a strength turns variation off).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GenerateRequestSchema } from '../../../src-core/contract/generate.ts';
import { parametersToRequest } from '../../../src-core/pipeline/metadata.ts';
import { applyRequest, defaultForm, formToRequest } from './form.ts';

const form = { ...defaultForm(), prompt: 'a cat', seed: 42 };

test('strength 0 sends no variation fields; a strength sends both, with -1 drawn at random', () => {
  assert.equal(defaultForm().variationStrength, 0);
  const off = formToRequest({ ...form, variationSeed: 7 }).value!;
  assert.ok(!('variationSeed' in off) && !('variationStrength' in off));
  const on = formToRequest({ ...form, variationSeed: 7, variationStrength: 0.3 }).value!;
  assert.equal(on.variationSeed, 7);
  assert.equal(on.variationStrength, 0.3);
  assert.ok(GenerateRequestSchema.safeParse(on).success);
  const random = formToRequest({ ...form, variationSeed: -1, variationStrength: 0.3 }, { random: () => 0.25 }).value!;
  assert.equal(random.variationSeed, 2 ** 30);
  assert.equal(random.seed, 42);
});

test('variation problems are said in words', () => {
  assert.equal(formToRequest({ ...form, variationStrength: 1.5 }).error, 'Variation strength must be between 0 and 1');
  assert.equal(formToRequest({ ...form, variationStrength: -0.1 }).error, 'Variation strength must be between 0 and 1');
  assert.equal(
    formToRequest({ ...form, variationStrength: 0.2, variationSeed: 1.5 }).error,
    'Variation seed must be a whole number (or -1 for random)',
  );
  assert.equal(
    formToRequest({ ...form, variationStrength: 0.2, variationSeed: -5 }).error,
    'Variation seed must be -1 (random) or a number from 0 up',
  );
});

test("a PNG's variation fills the form; one without it turns variation off", () => {
  const a1111 = 'a castle\nSteps: 20, Sampler: Euler, CFG scale: 7, Seed: 5, Size: 64x64, Variation seed: 9, Variation seed strength: 0.4';
  const filled = applyRequest({ ...form, variationStrength: 0 }, parametersToRequest(a1111).request);
  assert.equal(filled.seed, 5);
  assert.equal(filled.variationSeed, 9);
  assert.equal(filled.variationStrength, 0.4);
  const plain = applyRequest(filled, parametersToRequest('a castle\nSteps: 20, Sampler: Euler, CFG scale: 7, Seed: 5').request);
  assert.equal(plain.variationStrength, 0);
  assert.equal(formToRequest(plain).value?.variationStrength, undefined);
});
