// The Compare view's Eta, Sigma noise, Schedule min sigma, Schedule max sigma, Schedule rho and RNG source axes (A1111's
// X/Y/Z plot axes): listed under A1111's names, typed as numbers or ticked, checked in plain words, labelled as A1111's
// legend; an Eta axis that no cell's sampler reads and a max sigma below the min sigma are said before Run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { axisFromForm } from './axis-from-form.ts';
import { AXIS_KINDS } from './axis-kinds.ts';
import { defaultAxis, TEXT_PLACEHOLDERS, type AxisForm, type CompareForm } from './compare-form.ts';
import { axisValueLabel, displayHeaders } from './grid-labels.ts';
import { buildGridRequest } from './grid-request.ts';

const NUMBER_KINDS = ['eta', 'sNoise', 'scheduleSigmaMin', 'scheduleSigmaMax', 'scheduleRho'] as const;
type NumberKind = (typeof NUMBER_KINDS)[number];

const typed = (kind: NumberKind, text: string) =>
  axisFromForm({ ...defaultAxis(kind), texts: { ...defaultAxis(kind).texts, [kind]: text } });

test("listed with A1111's names: numbers, and the RNG source's ticked choices", () => {
  const listed = AXIS_KINDS.filter((k) => [...NUMBER_KINDS, 'noiseSource'].includes(k.kind));
  assert.deepEqual(
    listed.map((k) => [k.kind, k.label, k.editor]),
    [
      ['eta', 'Eta', 'numbers'],
      ['sNoise', 'Sigma noise', 'numbers'],
      ['scheduleSigmaMin', 'Schedule min sigma', 'numbers'],
      ['scheduleSigmaMax', 'Schedule max sigma', 'numbers'],
      ['scheduleRho', 'Schedule rho', 'numbers'],
      ['noiseSource', 'RNG source', 'choices'],
    ],
  );
  // The defaults and the placeholders are values the axis takes.
  for (const kind of NUMBER_KINDS) {
    assert.ok(axisFromForm(defaultAxis(kind)).value, kind);
    assert.ok(typed(kind, TEXT_PLACEHOLDERS[kind]).value, `${kind} placeholder`);
  }
  assert.deepEqual(axisFromForm(defaultAxis('noiseSource')).value, { kind: 'noiseSource', values: ['torch-cpu', 'torch-cuda'] });
});

test("typed values take the request fields' limits, in plain words", () => {
  assert.deepEqual(typed('eta', '0, 0.5 1').value, { kind: 'eta', values: [0, 0.5, 1] });
  assert.equal(typed('eta', '10.5').error, '10.5 is above the maximum of 10');
  assert.equal(typed('sNoise', '-1').error, '-1 is below the minimum of 0');
  assert.deepEqual(typed('scheduleSigmaMax', '14.6, 5').value, { kind: 'scheduleSigmaMax', values: [14.6, 5] });
  assert.equal(typed('scheduleSigmaMin', '10001').error, '10001 is above the maximum of 10000');
  assert.equal(typed('scheduleRho', '101').error, '101 is above the maximum of 100');
  assert.equal(typed('scheduleRho', '').error, 'enter at least one value');
  // Ticked in the contract's order.
  const rng: AxisForm = { ...defaultAxis('noiseSource'), noiseSources: ['torch-cuda', 'default'] };
  assert.deepEqual(axisFromForm(rng).value, { kind: 'noiseSource', values: ['default', 'torch-cuda'] });
  assert.equal(axisFromForm({ ...rng, noiseSources: [] }).error, 'tick at least one RNG source');
});

test("labels as A1111's legend writes them, on the axis and in the grid's headers", () => {
  const samplerName = (n: string) => n;
  assert.equal(axisValueLabel('eta', 0.5, samplerName), 'Eta: 0.5');
  assert.equal(axisValueLabel('sNoise', 1, samplerName), 'Sigma noise: 1');
  assert.equal(axisValueLabel('scheduleSigmaMin', 0.1, samplerName), 'Schedule min sigma: 0.1');
  assert.equal(axisValueLabel('scheduleSigmaMax', 14.6, samplerName), 'Schedule max sigma: 14.6');
  assert.equal(axisValueLabel('scheduleRho', 7, samplerName), 'Schedule rho: 7');
  const headers = displayHeaders(
    { x: { kind: 'noiseSource', values: ['default', 'torch-cpu', 'torch-cuda'] }, y: { kind: 'eta', values: [0, 1] } },
    samplerName,
  );
  assert.deepEqual(headers, { columns: ['RNG source: default', 'RNG source: CPU', 'RNG source: NV'], rows: ['Eta: 0', 'Eta: 1'] });
});

test('an Eta axis on a sampler that ignores eta, and a max sigma not above the min, are errors before Run', () => {
  const compare = (x: AxisForm, y: AxisForm = defaultAxis('none')): CompareForm => ({ x, y });
  const base = (fields: object) => ({ value: { prompt: 'a red circle', seed: 7, ...fields } });
  const eta = buildGridRequest(compare(defaultAxis('eta')), base({ sampler: 'dpmpp_2m' }));
  assert.equal(eta.request, null);
  assert.match(eta.errors.x ?? '', /^kind: an Eta axis would make the same image in every cell: DPM\+\+ 2M ignores Eta; /);
  assert.ok(buildGridRequest(compare(defaultAxis('eta')), base({ sampler: 'euler_ancestral' })).request);
  const sigmas = buildGridRequest(compare(defaultAxis('scheduleSigmaMax')), base({ scheduleSigmaMin: 6 }));
  assert.equal(
    sigmas.errors.x,
    "value 1: a cell would have schedule max sigma 5, not above the Generate form's min sigma 6: the max sigma must be " +
      'above the min sigma',
  );
});
