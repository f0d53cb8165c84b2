import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GridRequestSchema } from '../../../src-core/contract/experiments.ts';
import {
  AXIS_KINDS,
  axisFromForm,
  baseDetails,
  baseSummary,
  buildGridRequest,
  defaultAxis,
  defaultCompareForm,
  firstGridError,
  gridBase,
  parseNumberList,
  parseRestartList,
  parseRestartValue,
  samplerAxisHasRestart,
  splitTopLevel,
  type CompareForm,
} from './axes.ts';
import { defaultForm } from './form.ts';

const base = { value: { prompt: 'a red circle', seed: 7, cfgScale: 5, steps: 12 } } as const;

function compare(x: Partial<CompareForm['x']>, y: Partial<CompareForm['y']> = { kind: 'none' }): CompareForm {
  return { x: { ...defaultAxis('sampler'), ...x }, y: { ...defaultAxis('none'), ...y } };
}

test('number lists: commas, spaces and semicolons; each value checked', () => {
  assert.deepEqual(parseNumberList('10, 20 30;40').value, [10, 20, 30, 40]);
  assert.deepEqual(parseNumberList(' 1.5 ,2 ').value, [1.5, 2]);
  assert.equal(parseNumberList('4, x').error, '"x" is not a number');
  assert.equal(parseNumberList('').error, 'enter at least one value');
  assert.equal(parseNumberList('1.5', { integer: true, min: 1, max: 500 }).error, '1.5 is not a whole number');
  assert.equal(parseNumberList('0', { integer: true, min: 1, max: 500 }).error, '0 is below the minimum of 1');
  assert.equal(parseNumberList('501', { integer: true, min: 1, max: 500 }).error, '501 is above the maximum of 500');
  assert.match(parseNumberList('1 2 3 4 5 6 7 8 9 10 11 12 13').error ?? '', /at most 12 values \(there are 13\)/);
});

test('restart values: presets and segment lists, split outside brackets', () => {
  assert.deepEqual(splitTopLevel('a1111, [[3, 2, 0.1, 2], [4,1,0.5,1]] sd').value, ['a1111', '[[3, 2, 0.1, 2], [4,1,0.5,1]]', 'sd']);
  assert.equal(splitTopLevel('[[3,2,0.1,2]').error, 'a "[" is not closed');
  assert.equal(splitTopLevel('3]').error, 'a "]" has no matching "["');
  assert.deepEqual(parseRestartList('a1111; SD, [[3,2,0.1,2]]').value, [
    { preset: 'a1111' },
    { preset: 'sd' },
    { segments: [[3, 2, 0.1, 2]] },
  ]);
  assert.deepEqual(parseRestartValue('[10, 2, 0.1, 2]').value, { segments: [[10, 2, 0.1, 2]] }, 'a bare segment');
  assert.match(parseRestartValue('[[1,2,0.1,2]]').error ?? '', /segment 1: N_r must be at least 2/);
  assert.match(parseRestartValue('[[3,2,2,0.1]]').error ?? '', /t_max must be greater than t_min/);
  assert.match(parseRestartValue('[[3,2,0.1]]').error ?? '', /four numbers/);
  assert.match(parseRestartValue('[[3,2,0.1,2],').error ?? '', /is not a segment list/);
  assert.match(parseRestartValue('fast').error ?? '', /"fast" is not a preset \(a1111, sd\)/);
  assert.equal(parseRestartList(' ').error, 'enter at least one value');
});

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

test('a valid grid request passes the contract schema; one count, one batch per cell', () => {
  const check = buildGridRequest(
    compare({ samplers: ['euler', 'heun'] }, { kind: 'steps', texts: { ...defaultAxis('steps').texts, steps: '4, 8' } }),
    base,
  );
  assert.ok(check.request);
  assert.equal(check.cells, 4);
  assert.deepEqual(check.request.x, { kind: 'sampler', values: ['euler', 'heun'] });
  assert.deepEqual(check.request.y, { kind: 'steps', values: [4, 8] });
  assert.equal(check.request.base.count, 1);
  assert.equal(check.request.base.batchSize, 1);
  assert.ok(GridRequestSchema.safeParse(check.request).success);
  assert.deepEqual(check.errors, { base: null, x: null, y: null, other: null });
  const noY = buildGridRequest(compare({ samplers: ['euler'] }), base);
  assert.equal(noY.request?.y, undefined);
  assert.equal(noY.cells, 1);
});

test('errors land where they belong: X, Y (same kind), base', () => {
  const bad = buildGridRequest(compare({ kind: 'steps', texts: { ...defaultAxis('steps').texts, steps: '4, x' } }), base);
  assert.equal(bad.request, null);
  assert.equal(bad.errors.x, '"x" is not a number');
  assert.equal(firstGridError(bad.errors), 'X values: "x" is not a number');
  const same = buildGridRequest(compare({ kind: 'steps' }, { kind: 'steps' }), base);
  assert.match(same.errors.y ?? '', /other than the X axis/);
  assert.equal(same.cells, 0);
  const noBase = buildGridRequest(defaultCompareForm(), { error: 'Steps is empty' });
  assert.equal(noBase.errors.base, 'Steps is empty');
  assert.equal(firstGridError(noBase.errors), 'Base request: Steps is empty');
  // The schema has the last word: a base the form let through but the contract refuses.
  const schema = buildGridRequest(defaultCompareForm(), { value: { prompt: 'x', seed: -5 } });
  assert.match(schema.errors.base ?? '', /^seed: /);
});

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

test('the base summary: prompt · seed · CFG, with what the axes vary said so', () => {
  const b = { prompt: 'a red circle\n on blue', seed: 7, cfgScale: 5, sampler: 'heun' as const, steps: 12, width: 64, height: 64 };
  assert.equal(baseSummary(b, { randomSeed: false, axes: ['sampler'] }), '“a red circle on blue” · seed 7 · CFG 5');
  assert.equal(baseSummary(b, { randomSeed: true, axes: ['cfgScale'] }), '“a red circle on blue” · random seed · CFG from the axis');
  assert.equal(baseSummary({ ...b, prompt: ' ' }, { randomSeed: false, axes: ['seed'] }), '(no prompt) · seed from the axis · CFG 5');
  assert.match(baseSummary({ ...b, prompt: 'x'.repeat(100) }, { randomSeed: false, axes: [] }), /^“x{47}…” ·/);
  assert.equal(
    baseDetails(b, ['steps'], (n) => n.toUpperCase()),
    'HEUN · Karras · 64×64',
  );
  assert.equal(baseDetails(b, ['sampler', 'schedule']), '12 steps · 64×64');
});

test("the base details name A1111's Clip skip, variation and seed resize when set, leaving out what an axis varies", () => {
  const b = { prompt: 'a red circle', seed: 7, sampler: 'euler' as const, steps: 12, schedule: 'normal' as const, width: 64, height: 64 };
  const set = { ...b, clipSkip: 2, variationSeed: 100, variationStrength: 0.3, seedResizeFromWidth: 256, seedResizeFromHeight: 384 };
  assert.equal(
    baseDetails(set, ['cfgScale']),
    'euler · 12 steps · Normal · 64×64 · Clip skip 2 · Var. seed 100 · Var. strength 0.3 · Seed resize from 256×384',
  );
  assert.equal(
    baseDetails(set, ['clipSkip', 'variationSeed']),
    'euler · 12 steps · Normal · 64×64 · Var. strength 0.3 · Seed resize from 256×384',
  );
  assert.equal(
    baseDetails({ ...set, variationStrength: 0 }, ['variationStrength']),
    'euler · 12 steps · Normal · 64×64 · Clip skip 2 · Var. seed 100 · Seed resize from 256×384',
  );
  assert.equal(
    baseDetails(set, ['steps'], undefined, { randomVariationSeed: true }),
    'euler · Normal · 64×64 · Clip skip 2 · random Var. seed · Var. strength 0.3 · Seed resize from 256×384',
  );
  // Off: Clip skip 1 (the last layer), strength 0, a seed-resize side of 0.
  const off = { ...b, clipSkip: 1, variationSeed: 100, variationStrength: 0, seedResizeFromWidth: 0, seedResizeFromHeight: 384 };
  assert.equal(baseDetails(off, []), 'euler · 12 steps · Normal · 64×64');
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
