// The spread the experiment report prints (± std over seed sets, ± s.e. over prompts) is the sample standard
// deviation; one value has no spread to estimate, which must not read as a spread of 0.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { std } from './stats.ts';

test('std is the sample standard deviation, and not a number for a single value', () => {
  // numpy.std(..., ddof=1)
  assert.ok(Math.abs(std([1, 2, 3, 4]) - 1.2909944487358056) < 1e-12);
  assert.ok(Math.abs(std([2.5, -1, 7]) - 4.010403138505321) < 1e-12);
  assert.equal(std([3, 3, 3]), 0);
  assert.ok(Number.isNaN(std([5])), `one value: ${std([5])}`);
  assert.ok(Number.isNaN(std([])));
});
