// `npm run generate -- --variation-seed N --variation-strength X`: both go into the request; a strength alone gets a
// random variation seed; a variation seed without a strength is checked, then left out with a note; bad values are
// refused naming the option.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCli } from '../src-core/cli/generate.ts';

function parsed(...args: string[]) {
  const result = parseCli(['--prompt', 'x', '--seed', '1', ...args]);
  assert.ok(result !== 'help');
  return result;
}

test('the variation options set the request', () => {
  const both = parsed('--variation-seed', '77', '--variation-strength', '0.3');
  assert.equal(both.request.variationSeed, 77);
  assert.equal(both.request.variationStrength, 0.3);
  assert.deepEqual(both.notes, []);
  const alone = parsed('--variation-strength', '1');
  assert.ok(Number.isInteger(alone.request.variationSeed) && alone.request.variationSeed! >= 0, 'a random variation seed');
  assert.equal(alone.request.variationStrength, 1);
});

test('a variation seed without a strength is left out with a note; strength 0 is off', () => {
  const seedOnly = parsed('--variation-seed', '5');
  assert.equal(seedOnly.request.variationSeed, undefined);
  assert.deepEqual(seedOnly.notes, [
    '--variation-seed applies to runs with --variation-strength over 0 only; this run has none, so it was ignored',
  ]);
  const zero = parsed('--variation-strength', '0');
  assert.ok(!('variationStrength' in zero.request) && !('variationSeed' in zero.request));
});

test('bad variation values are refused naming the option', () => {
  assert.throws(() => parsed('--variation-strength', '1.5'), /--variation-strength 1\.5: Too big: expected number to be <=1/);
  assert.throws(() => parsed('--variation-strength', 'lots'), /--variation-strength needs a number \(got "lots"\)/);
  assert.throws(() => parsed('--variation-seed=-2', '--variation-strength', '0.1'), /--variation-seed -2: Too small/);
  assert.throws(() => parsed('--variation-seed', '2.5'), /--variation-seed 2\.5: .*int/i);
});
