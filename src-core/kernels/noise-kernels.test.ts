// The kernels' Philox blocks against noise/torch-cuda.ts's philox4x32 (itself checked against cuRAND's known answers
// in torch-noise.test.ts): the same words for any key and counter, the largest 32-bit values included.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { philox4x32 } from '../noise/torch-cuda.ts';
import { philoxPairs } from './noise-kernels.ts';

test('philoxPairs gives philox4x32 first two words for counters (c0, c1, i, 0)', () => {
  const cases: Array<[number, number, number, number, number]> = [
    [0, 0, 0, 0, 5],
    [0, 0, 0, 0, 1],
    [7, 0, 12345, 0, 1000],
    [0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 300],
    [1, 2, 0x9e3779b9, 0x80000000, 2049],
    [3, 0, 0, 0, 0],
  ];
  for (const [c0, c1, k0, k1, count] of cases) {
    const words = philoxPairs(count, c0, c1, k0, k1);
    assert.equal(words.length, 2 * count);
    for (let i = 0; i < count; i++) {
      const [a0, a1] = philox4x32(c0, c1, i, 0, k0, k1);
      if (words[2 * i] !== a0 || words[2 * i + 1] !== a1) {
        assert.fail(`key (${k0}, ${k1}), counter (${c0}, ${c1}, ${i}, 0): ${words[2 * i]}, ${words[2 * i + 1]} != ${a0}, ${a1}`);
      }
    }
  }
});

test('a large draw grows the memory and the next small one still reads its own words', () => {
  const big = philoxPairs(200_000, 1, 0, 42, 0);
  const [a0, a1] = philox4x32(1, 0, 199_999, 0, 42, 0);
  assert.deepEqual([big[2 * 199_999], big[2 * 199_999 + 1]], [a0, a1]);
  const small = philoxPairs(2, 9, 0, 42, 0);
  assert.deepEqual([...small], [...philox4x32(9, 0, 0, 0, 42, 0).slice(0, 2), ...philox4x32(9, 0, 1, 0, 42, 0).slice(0, 2)]);
});
