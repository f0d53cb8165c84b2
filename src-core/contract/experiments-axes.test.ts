// The grid's Clip skip, Var. seed and Var. strength axes (A1111's X/Y/Z plot axes): the request fields' limits, the
// variation rules a grid must keep, and the labels A1111 writes in its legend ("Clip skip: 2", scripts/xyz_grid.py's
// AxisOption labels through format_value_add_label).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describeIssues } from './generate.ts';
import { axisLabel, GridRequestSchema } from './experiments.ts';

const base = { prompt: 'a red circle', seed: 7 };

function problems(request: unknown): string {
  const parsed = GridRequestSchema.safeParse(request);
  return parsed.success ? '' : describeIssues(parsed.error);
}

test('clip skip values: whole numbers from 1 to 12, as the request field', () => {
  assert.equal(problems({ base, x: { kind: 'clipSkip', values: [1, 2, 12] } }), '');
  assert.match(problems({ base, x: { kind: 'clipSkip', values: [0] } }), /^x\.values\.0: /);
  assert.match(problems({ base, x: { kind: 'clipSkip', values: [13] } }), /^x\.values\.0: /);
  assert.match(problems({ base, x: { kind: 'clipSkip', values: [1.5] } }), /^x\.values\.0: /);
});

test('variation seed values: whole numbers from 0; variation strength values: 0 to 1 (0: no variation)', () => {
  // The base is a request of its own: a strength over 0 there needs its variation seed (the axis replaces it).
  const withStrength = { ...base, variationSeed: 1, variationStrength: 0.3 };
  assert.equal(problems({ base: withStrength, x: { kind: 'variationSeed', values: [0, Number.MAX_SAFE_INTEGER] } }), '');
  assert.match(problems({ base: withStrength, x: { kind: 'variationSeed', values: [-1] } }), /^x\.values\.0: /);
  assert.match(problems({ base: withStrength, x: { kind: 'variationSeed', values: [2.5] } }), /^x\.values\.0: /);
  const withSeed = { ...base, variationSeed: 100 };
  assert.equal(problems({ base: withSeed, x: { kind: 'variationStrength', values: [0, 0.25, 1] } }), '');
  assert.match(problems({ base: withSeed, x: { kind: 'variationStrength', values: [1.01] } }), /^x\.values\.0: /);
  assert.match(problems({ base: withSeed, x: { kind: 'variationStrength', values: [-0.1] } }), /^x\.values\.0: /);
});

test('a variation-strength axis needs a variation seed, from the base or a variation-seed axis', () => {
  assert.equal(
    problems({ base, y: { kind: 'variationStrength', values: [0, 0.5] }, x: { kind: 'steps', values: [4] } }),
    "y.kind: a variation-strength axis needs a variation seed (the Generate form's Variation seed, base.variationSeed) " +
      'or a variation-seed axis',
  );
  assert.equal(problems({ base, x: { kind: 'variationStrength', values: [0.5] }, y: { kind: 'variationSeed', values: [1, 2] } }), '');
});

test('a variation-seed axis needs a variation strength over 0, from the base or a variation-strength axis', () => {
  const message =
    'x.kind: a variation-seed axis changes nothing at variation strength 0: set a Variation strength above 0 in the ' +
    'Generate form, or add a variation-strength axis';
  assert.equal(problems({ base, x: { kind: 'variationSeed', values: [1, 2] } }), message);
  assert.equal(problems({ base: { ...base, variationStrength: 0 }, x: { kind: 'variationSeed', values: [1, 2] } }), message);
  assert.equal(problems({ base, x: { kind: 'variationSeed', values: [1, 2] }, y: { kind: 'variationStrength', values: [0, 1] } }), '');
});

test("labels as A1111's X/Y/Z plot legend writes them", () => {
  assert.equal(axisLabel('clipSkip', 2), 'Clip skip: 2');
  assert.equal(axisLabel('variationSeed', 100), 'Var. seed: 100');
  assert.equal(axisLabel('variationStrength', 0.25), 'Var. strength: 0.25');
  assert.equal(axisLabel('variationStrength', 0), 'Var. strength: 0');
});
