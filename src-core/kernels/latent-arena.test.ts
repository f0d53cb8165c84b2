// Arrays in the kernels' own memory (latent-arena.ts): which lengths get one, that blocks never overlap, and that every
// kernel run in place on them gives the values the copying path gives on ordinary arrays (latent-kernels.test.ts checks
// that path against the formulas), mixed arrays and a full arena included.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Float16Array } from '@petamoriken/float16';
import { KERNEL_FROM, latentArray, latentCopy, residentTogether } from './latent-arena.ts';
import { allFinite, axpy, combineGuidance, dpmpp2mUpdate, eulerStep, heunCorrect, heunPredict, scaleInput } from './latent-kernels.ts';

let seed = 987;
const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 2 - 1;
const doubles = (n: number, scale = 10) => Float64Array.from({ length: n }, () => random() * scale);
const floats = (n: number) => Float32Array.from({ length: n }, () => random() * 3);
const resident = (...arrays: Float64Array[]) => residentTogether(...arrays) !== undefined;
/** The same values in an arena array and in an ordinary one. */
const pair = (values: Float64Array): [Float64Array, Float64Array] => [latentCopy(values), Float64Array.from(values)];

function assertSame(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) {
    if (!Object.is(actual[i], expected[i])) assert.fail(`${what}[${i}] of ${expected.length}: ${actual[i]} !== ${expected[i]}`);
  }
}

const LENGTHS = [KERNEL_FROM, 4 * 64 * 64, 2 * 4 * 96 * 64];

/** Two arena arrays whose blocks follow each other in memory. */
function adjacentPair(n: number): { denoised: Float64Array; after: Float64Array } {
  const arrays = Array.from({ length: 4 }, () => latentArray(n));
  const offsets = residentTogether(...arrays)!.offsets;
  for (let i = 0; i < arrays.length; i++) {
    const next = offsets.indexOf(offsets[i] + 8 * n);
    if (next >= 0) return { denoised: arrays[i], after: arrays[next] };
  }
  return assert.fail(`no two of four arena arrays of ${n} values are adjacent`);
}

test('latent arrays: in an arena from KERNEL_FROM values at multiples of four, zeroed, never overlapping', () => {
  for (const n of [0, 8, KERNEL_FROM - 4, KERNEL_FROM + 2, KERNEL_FROM + 1]) assert.equal(resident(latentArray(n)), false, `n=${n}`);
  const a = latentArray(4 * 64 * 64),
    b = latentArray(4 * 64 * 64);
  assert.ok(resident(a, b), 'two arrays of one length share an arena');
  assert.ok(a.every((v) => v === 0) && b.every((v) => v === 0));
  a.fill(1);
  b.fill(2);
  assert.ok(a.every((v) => v === 1) && b.every((v) => v === 2), 'writing one array leaves the other as it was');
  assert.equal(resident(a, latentArray(KERNEL_FROM)), false, 'another length is another arena');
  const copy = latentCopy(a);
  assert.ok(resident(copy) && copy !== a && copy.every((v) => v === 1));
});

test('a full arena hands out ordinary arrays, which the kernels still take', () => {
  const n = 4 * 72 * 72;
  const held = Array.from({ length: 40 }, () => latentArray(n));
  assert.ok(resident(held[0]) && !resident(held[39]), 'the first arrays are in the arena, the last ones are not');
  const x = doubles(n),
    d = doubles(n, 1);
  const [inArena, plain] = [held[0], held[39]];
  inArena.set(x);
  plain.set(x);
  const other = Float64Array.from(x);
  eulerStep(inArena, 1.3, d, 0.4);
  eulerStep(plain, 1.3, d, 0.4);
  eulerStep(other, 1.3, d, 0.4);
  assertSame(inArena, other, 'arena array with an ordinary denoised');
  assertSame(plain, other, 'an ordinary array from a full arena');
});

test("eulerStep, allFinite, heunPredict, heunCorrect, axpy and dpmpp2mUpdate in place: the copying path's values", () => {
  for (const n of LENGTHS) {
    const [x, x0] = pair(doubles(n)),
      [d, d0] = pair(doubles(n, 1)),
      [p, p0] = pair(doubles(n, 1));
    assert.ok(resident(x, d, p) && !resident(x0));
    eulerStep(x, 2.1, d, 1.2);
    eulerStep(x0, 2.1, d0, 1.2);
    assertSame(x, x0, `eulerStep n=${n}`);
    assert.equal(allFinite(x), true);
    x[n - 1] = NaN;
    assert.equal(allFinite(x), false, 'a NaN in the last value');
    x[n - 1] = x0[n - 1];
    const [slope, slope0] = pair(new Float64Array(n)),
      [euler, euler0] = pair(new Float64Array(n));
    heunPredict(x, d, 2.1, -0.7, slope, euler);
    heunPredict(x0, d0, 2.1, -0.7, slope0, euler0);
    assertSame(slope, slope0, `heunPredict slope n=${n}`);
    assertSame(euler, euler0, `heunPredict xEuler n=${n}`);
    heunCorrect(x, euler, p, slope, 1.4, -0.7);
    heunCorrect(x0, euler0, p0, slope0, 1.4, -0.7);
    assertSame(x, x0, `heunCorrect n=${n}`);
    axpy(x, 0.37, d, x);
    axpy(x0, 0.37, d0, x0);
    assertSame(x, x0, `axpy in place n=${n}`);
    axpy(d, -1.5, p, slope);
    axpy(d0, -1.5, p0, slope0);
    assertSame(slope, slope0, `axpy into another array n=${n}`);
    dpmpp2mUpdate(x, d, 0.8, 0.15);
    dpmpp2mUpdate(x0, d0, 0.8, 0.15);
    assertSame(x, x0, `dpmpp2mUpdate first order n=${n}`);
    dpmpp2mUpdate(x, d, 0.8, 0.15, { previous: p, a: 1.25, b: 0.25 });
    dpmpp2mUpdate(x0, d0, 0.8, 0.15, { previous: p0, a: 1.25, b: 0.25 });
    assertSame(x, x0, `dpmpp2mUpdate second order n=${n}`);
  }
});

test("scaleInput and combineGuidance from arena arrays: the copying path's values, float32 and half bits, guided or not", () => {
  for (const n of LENGTHS) {
    const [x, x0] = pair(doubles(n, 30));
    // The output and the block right after it: that one must keep its values (fp16 kernels go four at a time).
    const { denoised, after } = adjacentPair(n);
    for (const guided of [false, true]) {
      for (const half of [false, true]) {
        const make = (length: number) => (half ? new Uint16Array(length) : new Float32Array(length));
        const sample = make(guided ? 2 * n : n),
          sample0 = make(guided ? 2 * n : n);
        scaleInput(sample, x, 0.21, guided);
        scaleInput(sample0, x0, 0.21, guided);
        assertSame(sample, sample0, `scaleInput n=${n} guided=${guided} half=${half}`);
        const values = floats(guided ? 2 * n : n);
        const out = half ? new Uint16Array(new Float16Array(values).buffer) : values;
        after.fill(7);
        const denoised0 = new Float64Array(n);
        combineGuidance(denoised, x, out, { cSkip: 0.3, cOut: -1.1 }, 6.5, guided);
        combineGuidance(denoised0, x0, out, { cSkip: 0.3, cOut: -1.1 }, 6.5, guided);
        assertSame(denoised, denoised0, `combineGuidance n=${n} guided=${guided} half=${half}`);
        assert.ok(
          after.every((v) => v === 7),
          'the next block is untouched',
        );
      }
    }
  }
});
