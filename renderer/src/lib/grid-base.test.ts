import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultAxis, type CompareForm } from './compare-form.ts';
import { defaultForm } from './form.ts';
import { gridBase, samplerAxisHasRestart } from './grid-base.ts';
import { buildGridRequest } from './grid-request.ts';

function compare(x: Partial<CompareForm['x']>, y: Partial<CompareForm['y']> = { kind: 'none' }): CompareForm {
  return { x: { ...defaultAxis('sampler'), ...x }, y: { ...defaultAxis('none'), ...y } };
}

test('the base comes from the Generate form; Restart settings travel when a sampler axis has Restart', () => {
  const form = { ...defaultForm(), prompt: 'a cat', seed: 3, restartMode: 'sd' as const };
  const plain = gridBase(form, compare({ samplers: ['euler', 'heun'] }), { random: () => 0 });
  assert.equal(plain.value?.restart, undefined);
  assert.equal(plain.value?.count, 1);
  const withRestart = compare({ samplers: ['euler', 'restart'] });
  assert.ok(samplerAxisHasRestart(withRestart));
  assert.deepEqual(gridBase(form, withRestart).value?.restart, { preset: 'sd' });
  const random = gridBase({ ...form, seed: -1 }, withRestart, { random: () => 0.5 });
  assert.equal(random.value?.seed, 2 ** 31);
  assert.match(gridBase({ ...form, steps: null }, withRestart).error ?? '', /Steps is empty \(Generate view\)/);
});

test("a Var. strength axis turns towards the form's Variation seed (random: one for the grid), as A1111's subseed", () => {
  const form = { ...defaultForm(), prompt: 'a cat', seed: 3 };
  const strengths = compare({ kind: 'variationStrength' });
  // The form's strength is 0, so its request has no variation seed; the axis takes the form's.
  assert.equal(gridBase({ ...form, variationSeed: 55 }, compare({ kind: 'steps' })).value?.variationSeed, undefined);
  const fixed = gridBase({ ...form, variationSeed: 55 }, strengths);
  assert.equal(fixed.value?.variationSeed, 55);
  assert.ok(buildGridRequest(strengths, fixed).request);
  const random = gridBase({ ...form, variationSeed: -1 }, compare({ kind: 'steps' }, { kind: 'variationStrength' }), { random: () => 0.5 });
  assert.equal(random.value?.variationSeed, 2 ** 31);
  assert.equal(
    gridBase({ ...form, variationSeed: 1.5 }, strengths).error,
    'Variation seed must be a whole number (or -1 for random) (Generate view)',
  );
  // A Var. seed axis at the form's strength 0 would make the same image in every cell: said where the axis is.
  const seeds = buildGridRequest(compare({ kind: 'variationSeed' }), gridBase(form, compare({ kind: 'variationSeed' })));
  assert.equal(seeds.request, null);
  assert.match(seeds.errors.x ?? '', /a variation-seed axis changes nothing at variation strength 0: set a Variation strength above 0/);
  const varied = { ...form, variationStrength: 0.3, variationSeed: 9 };
  const ok = buildGridRequest(compare({ kind: 'variationSeed' }), gridBase(varied, compare({ kind: 'variationSeed' })));
  assert.deepEqual(ok.request?.x, { kind: 'variationSeed', values: [1, 2, 3, 4] });
  assert.equal(ok.request?.base.variationStrength, 0.3);
});
