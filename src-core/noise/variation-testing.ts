// For the tests of variation seeds and seed resize: the reference vectors A1111's formulas gave in torch
// (tests/fixtures/variation/make_variation_vectors.py), and the comparison of a draw with one of their summaries.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** A draw as the vectors keep it: its sum, sum of squares, and some values by index. */
export interface Summary {
  sum: number;
  sumOfSquares: number;
  samples: Array<[number, number]>;
}

/** The vectors file, parsed (each test names the lists it reads). */
export function variationVectors<T>(): T {
  return JSON.parse(readFileSync(join(import.meta.dirname, '../../tests/fixtures/variation/variation-vectors.json'), 'utf8')) as T;
}

/** float32 arithmetic in torch against float64 here (the slerp's): a few 1e-7 relative per value. */
const VALUE_TOLERANCE = 2e-6;

export function assertMatches(values: Float64Array, expected: Summary, what: string): void {
  for (const [index, value] of expected.samples) {
    assert.ok(Math.abs(values[index] - value) <= VALUE_TOLERANCE, `${what}: [${index}] ${values[index]} vs torch ${value}`);
  }
  const sum = values.reduce((a, b) => a + b, 0),
    squares = values.reduce((a, b) => a + b * b, 0);
  const tolerance = VALUE_TOLERANCE * values.length;
  assert.ok(Math.abs(sum - expected.sum) <= tolerance, `${what}: sum ${sum} vs torch ${expected.sum}`);
  assert.ok(Math.abs(squares - expected.sumOfSquares) <= tolerance * 4, `${what}: sum of squares ${squares} vs ${expected.sumOfSquares}`);
}
