import { test } from 'node:test';
import assert from 'node:assert/strict';
import { axisFromForm } from './axis-from-form.ts';
import { AXIS_KINDS } from './axis-kinds.ts';
import { defaultAxis } from './compare-form.ts';

test('axes from the form: ticked choices in the contract order, typed numbers', () => {
  assert.deepEqual(axisFromForm({ ...defaultAxis('sampler'), samplers: ['heun', 'euler'] }).value, {
    kind: 'sampler',
    values: ['euler', 'heun'],
  });
  assert.equal(axisFromForm({ ...defaultAxis('sampler'), samplers: [] }).error, 'tick at least one sampler');
  assert.deepEqual(axisFromForm({ ...defaultAxis('schedule'), schedules: ['normal'] }).value, { kind: 'schedule', values: ['normal'] });
  assert.deepEqual(axisFromForm({ ...defaultAxis('cfgScale'), texts: { ...defaultAxis('cfgScale').texts, cfgScale: '1, 7.5' } }).value, {
    kind: 'cfgScale',
    values: [1, 7.5],
  });
  assert.deepEqual(axisFromForm(defaultAxis('seed')).value, { kind: 'seed', values: [1, 2, 3, 4] });
  assert.deepEqual(axisFromForm(defaultAxis('restart')).value, { kind: 'restart', values: [{ preset: 'a1111' }, { preset: 'sd' }] });
});

test("A1111's Clip skip, Var. seed and Var. strength axes: listed, typed as numbers, checked in plain words", () => {
  const listed = AXIS_KINDS.filter((k) => ['clipSkip', 'variationSeed', 'variationStrength'].includes(k.kind));
  assert.deepEqual(
    listed.map((k) => [k.kind, k.label, k.editor]),
    [
      ['clipSkip', 'Clip skip', 'numbers'],
      ['variationSeed', 'Var. seed', 'numbers'],
      ['variationStrength', 'Var. strength', 'numbers'],
    ],
  );
  const typed = (kind: 'clipSkip' | 'variationSeed' | 'variationStrength', text: string) =>
    axisFromForm({ ...defaultAxis(kind), texts: { ...defaultAxis(kind).texts, [kind]: text } });
  assert.deepEqual(typed('clipSkip', '1, 2 3').value, { kind: 'clipSkip', values: [1, 2, 3] });
  assert.equal(typed('clipSkip', '1.5').error, '1.5 is not a whole number');
  assert.equal(typed('clipSkip', '0').error, '0 is below the minimum of 1');
  assert.equal(typed('clipSkip', '13').error, '13 is above the maximum of 12');
  assert.deepEqual(typed('variationSeed', '100; 101').value, { kind: 'variationSeed', values: [100, 101] });
  assert.equal(typed('variationSeed', '-1').error, '-1 is below the minimum of 0');
  assert.equal(typed('variationSeed', '2.5').error, '2.5 is not a whole number');
  assert.equal(typed('variationSeed', 'abc').error, '"abc" is not a number');
  assert.deepEqual(typed('variationStrength', '0, 0.25, 1').value, { kind: 'variationStrength', values: [0, 0.25, 1] });
  assert.equal(typed('variationStrength', '1.5').error, '1.5 is above the maximum of 1');
  assert.equal(typed('variationStrength', '-0.1').error, '-0.1 is below the minimum of 0');
  assert.equal(typed('variationStrength', '').error, 'enter at least one value');
  // The defaults parse.
  for (const kind of ['clipSkip', 'variationSeed', 'variationStrength'] as const) assert.ok(axisFromForm(defaultAxis(kind)).value, kind);
});
