import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GridRequestSchema } from '../../../src-core/contract/experiments.ts';
import { defaultAxis, defaultCompareForm, type CompareForm } from './compare-form.ts';
import { buildGridRequest, firstGridError } from './grid-request.ts';

const base = { value: { prompt: 'a red circle', seed: 7, cfgScale: 5, steps: 12 } } as const;

function compare(x: Partial<CompareForm['x']>, y: Partial<CompareForm['y']> = { kind: 'none' }): CompareForm {
  return { x: { ...defaultAxis('sampler'), ...x }, y: { ...defaultAxis('none'), ...y } };
}

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
