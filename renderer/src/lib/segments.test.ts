import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkRow, checkRows, firstRowsError, restartEditorState, restartSettings, rowFromSegment } from './segments.ts';

const row = (nr: string, k: string, tMin: string, tMax: string) => ({ nr, k, tMin, tMax });

test('a valid row becomes a segment', () => {
  assert.deepEqual(checkRow(row('10', '2', '0.1', '2')), { segment: [10, 2, 0.1, 2] });
  assert.deepEqual(checkRow(row(' 5 ', '1', '1e-1', '9')), { segment: [5, 1, 0.1, 9] });
});

test('row errors name the field in the paper notation', () => {
  assert.equal(checkRow(row('', '2', '0.1', '2')).error, 'N_r must be a number');
  assert.equal(checkRow(row('10', '2', '0.', 'x')).error, 't_max must be a number');
  assert.equal(checkRow(row('1', '2', '0.1', '2')).error, 'N_r must be at least 2');
  assert.equal(checkRow(row('10', '2.5', '0.1', '2')).error, 'K must be a whole number');
  assert.equal(checkRow(row('10', '21', '0.1', '2')).error, 'K must be at most 20');
  assert.equal(checkRow(row('10', '2', '0', '2')).error, 't_min must be greater than 0');
  assert.equal(checkRow(row('10', '2', '3', '2')).error, 't_max must be greater than t_min');
});

test('the list is checked as a whole', () => {
  const ok = checkRows([row('10', '2', '0.1', '2'), row('5', '2', '5', '10')]);
  assert.deepEqual(ok.segments, [
    [10, 2, 0.1, 2],
    [5, 2, 5, 10],
  ]);
  assert.equal(firstRowsError(ok), null);
  const bad = checkRows([row('10', '2', '0.1', '2'), row('5', '2', '5', '1')]);
  assert.equal(bad.segments, null);
  assert.deepEqual(bad.rowErrors, [null, 't_max must be greater than t_min']);
  assert.equal(firstRowsError(bad), 'Restart segment 2: t_max must be greater than t_min');
  assert.equal(firstRowsError(checkRows([])), 'Restart segments: add at least one segment');
  assert.match(firstRowsError(checkRows(Array.from({ length: 9 }, () => row('10', '2', '0.1', '2')))) ?? '', /at most 8/);
});

test('restart settings for presets and custom segments', () => {
  assert.deepEqual(restartSettings('a1111', []), { restart: { preset: 'a1111' } });
  assert.deepEqual(restartSettings('sd', []), { restart: { preset: 'sd' } });
  assert.deepEqual(restartSettings('custom', [row('10', '2', '0.1', '2')], { restartGamma: 0.05 }), {
    restart: { segments: [[10, 2, 0.1, 2]], restartGamma: 0.05 },
  });
  assert.match(restartSettings('custom', [row('10', '2', '3', '2')]).error ?? '', /segment 1: t_max/);
});

test('editor state from an imported restart value', () => {
  assert.deepEqual(restartEditorState({ preset: 'sd' }), { mode: 'sd', rows: [], extra: {} });
  assert.deepEqual(restartEditorState({ segments: [[4, 1, 0.5, 3]], sMin: 0.1 }), {
    mode: 'custom',
    rows: [rowFromSegment([4, 1, 0.5, 3])],
    extra: { sMin: 0.1 },
  });
  assert.equal(restartEditorState(undefined), null);
  assert.equal(restartEditorState({ nonsense: 1 }), null);
});
