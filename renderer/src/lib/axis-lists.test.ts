import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseNumberList } from './axis-lists.ts';

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
