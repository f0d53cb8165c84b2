import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseRestartList, parseRestartValue, splitTopLevel } from './axis-restart.ts';

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
