// The default noise, whose generator steps run in the kernels' module, against the stream written out in plain
// JavaScript (xoshiro128** one draw at a time, Box-Muller one value at a time with a spare): the same values for any
// sequence of draws, so the images of a seed never change.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DefaultNoiseStream } from './default-noise.ts';

const rotl = (x: number, k: number) => ((x << k) | (x >>> (32 - k))) >>> 0;

/** The reference stream: the state taken from a fresh DefaultNoiseStream (the seeding is not what is under test). */
function referenceStream(seed: number) {
  const s = Uint32Array.from((new DefaultNoiseStream(seed) as unknown as { s: Uint32Array }).s);
  let spare: number | undefined;
  const next = () => {
    const result = Math.imul(rotl(Math.imul(s[1], 5), 7), 9) >>> 0;
    const t = s[1] << 9;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return result;
  };
  const uniform = () => ((next() >>> 5) * 67108864 + (next() >>> 6) + 0.5) / 9007199254740992;
  return (count: number) => {
    const out = new Float64Array(count);
    for (let i = 0; i < count; i++) {
      if (spare !== undefined) {
        out[i] = spare;
        spare = undefined;
        continue;
      }
      const r = Math.sqrt(-2 * Math.log(uniform()));
      const theta = 2 * Math.PI * uniform();
      out[i] = r * Math.cos(theta);
      spare = r * Math.sin(theta);
    }
    return out;
  };
}

test('the default noise gives the reference stream value for value, for odd and even draws in any order', () => {
  for (const seed of [0, 1, 7, 123456789, 2 ** 33 + 5]) {
    const stream = new DefaultNoiseStream(seed),
      reference = referenceStream(seed);
    for (const count of [1, 2, 3, 16384, 5, 0, 7, 4096, 1, 1, 2, 100001]) {
      const got = stream.randn(count),
        expected = reference(count);
      assert.equal(got.length, count);
      for (let i = 0; i < count; i++) {
        if (!Object.is(got[i], expected[i])) assert.fail(`seed ${seed}, a draw of ${count}: value ${i} is ${got[i]}, not ${expected[i]}`);
      }
    }
  }
});

test('two streams drawn in turn do not disturb each other (each keeps its own state)', () => {
  const a = new DefaultNoiseStream(3),
    b = new DefaultNoiseStream(4);
  const refA = referenceStream(3),
    refB = referenceStream(4);
  for (let k = 0; k < 4; k++) {
    assert.deepEqual(a.randn(999), refA(999));
    assert.deepEqual(b.randn(1000), refB(1000));
  }
});
