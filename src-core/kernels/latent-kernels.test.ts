// The WebAssembly kernels against the formulas written out as plain loops, value for value (the samplers'
// conformance vectors check the formulas themselves), and the committed bytes against the .wat.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { compileKernels, KERNEL_SOURCES } from '../../scripts/kernels-wasm.ts';
import { Float16Array } from '@petamoriken/float16';
import { KERNELS_WASM } from './kernels-wasm.ts';
import {
  KERNEL_FROM,
  allFinite,
  axpy,
  combineGuidance,
  dpmpp2mUpdate,
  eulerStep,
  heunCorrect,
  heunPredict,
  scaleInput,
} from './latent-kernels.ts';

// Odd and even lengths on both sides of KERNEL_FROM (JavaScript loops below it), an empty latent, 4x64x64, and one
// large enough to grow the module's memory.
const lengths = [0, 1, 2, 7, KERNEL_FROM - 1, KERNEL_FROM, KERNEL_FROM + 1, 4 * 64 * 64, 4 * 128 * 128 * 4 + 1];
let seed = 12345;
const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 2 - 1;
const doubles = (n: number, scale = 10) => Float64Array.from({ length: n }, () => random() * scale);
const floats = (n: number) => Float32Array.from({ length: n }, () => random() * 3);

function assertSameValues(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) {
    if (!Object.is(actual[i], expected[i])) assert.fail(`${what}[${i}] of ${expected.length}: ${actual[i]} !== ${expected[i]}`);
  }
}

test('the committed WebAssembly is the .wat sources compiled (run npm run build:kernels after editing one)', async () => {
  assert.equal(await compileKernels(KERNEL_SOURCES.map((url) => readFileSync(fileURLToPath(url), 'utf8'))), KERNELS_WASM);
});

test('eulerStep: x + dt * ((x - D) / sigma), value for value', () => {
  for (const n of lengths) {
    const x = doubles(n),
      denoised = doubles(n, 1);
    const expected = Float64Array.from(x);
    const [sigma, sigmaTo] = [1.7 + random(), 0.3 + random() / 4];
    for (let i = 0; i < n; i++) expected[i] = expected[i] + (sigmaTo - sigma) * ((expected[i] - denoised[i]) / sigma);
    eulerStep(x, sigma, denoised, sigmaTo);
    assertSameValues(x, expected, `eulerStep n=${n}`);
  }
  assert.throws(() => eulerStep(new Float64Array(4), 1, new Float64Array(3), 0.5), /denoised has 3 values, expected 4/);
});

test('scaleInput: float32(c_in * x), once or twice over', () => {
  for (const n of lengths) {
    for (const guided of [false, true]) {
      const x = doubles(n, 20),
        cIn = 1 / Math.sqrt(3.3 + random());
      const expected = new Float32Array(guided ? 2 * n : n);
      for (let i = 0; i < n; i++) expected[i] = cIn * x[i];
      if (guided) for (let i = 0; i < n; i++) expected[n + i] = cIn * x[i];
      const sample = new Float32Array(expected.length).fill(NaN);
      scaleInput(sample, x, cIn, guided);
      assertSameValues(sample, expected, `scaleInput n=${n} guided=${guided}`);
    }
  }
  assert.throws(() => scaleInput(new Float32Array(4), new Float64Array(4), 1, true), /the UNet sample has 4 values, expected 8/);
});

/** Random c_skip, c_out and scale, and D for them written out as a plain loop. */
function combineCase(x: Float64Array, out: Float32Array, guided: boolean) {
  const n = x.length;
  const c = { cSkip: 0.9 + random() / 10, cOut: -2 * Math.abs(random()) },
    scale = 7.5 + random();
  const expected = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    expected[i] = guided ? c.cSkip * x[i] + c.cOut * (out[i] + scale * (out[n + i] - out[i])) : c.cSkip * x[i] + c.cOut * out[i];
  }
  return { c, scale, expected };
}

test('combineGuidance: c_skip x + c_out (u + w (c - u)), or c_skip x + c_out out unguided', () => {
  for (const n of lengths) {
    for (const guided of [false, true]) {
      const x = doubles(n),
        out = floats(guided ? 2 * n : n);
      const { c, scale, expected } = combineCase(x, out, guided);
      const denoised = new Float64Array(n).fill(NaN);
      combineGuidance(denoised, x, out, c, scale, guided);
      assertSameValues(denoised, expected, `combineGuidance n=${n} guided=${guided}`);
    }
  }
  assert.throws(
    () => combineGuidance(new Float64Array(2), new Float64Array(2), new Float32Array(2), { cSkip: 1, cOut: 1 }, 7, true),
    /the UNet output has 2 values, expected 4/,
  );
});

// An fp16 UNet's side: half bit patterns in and out, @petamoriken/float16 (the half tests' reference) giving the halves.
test('scaleInput into half bit patterns: the halves of float32(c_in * x), at every length (always the kernels)', () => {
  for (const n of lengths) {
    for (const guided of [false, true]) {
      const x = doubles(n, 20000), // some values past half's range (65504): infinities
        cIn = 1 / Math.sqrt(3.3 + random());
      const expected = new Float32Array(guided ? 2 * n : n);
      for (let i = 0; i < expected.length; i++) expected[i] = cIn * x[i % n];
      const sample = new Uint16Array(expected.length).fill(0xabcd);
      scaleInput(sample, x, cIn, guided);
      assertSameValues(sample, new Uint16Array(new Float16Array(expected).buffer), `scaleInput halves n=${n} guided=${guided}`);
    }
  }
});

test('combineGuidance from half bit patterns: the formula on their values, at every length (always the kernels)', () => {
  for (const n of lengths) {
    for (const guided of [false, true]) {
      const x = doubles(n),
        halves = new Uint16Array(new Float16Array(floats(guided ? 2 * n : n)).buffer),
        out = Float32Array.from(new Float16Array(halves.buffer));
      const { c, scale, expected } = combineCase(x, out, guided);
      const denoised = new Float64Array(n).fill(NaN);
      combineGuidance(denoised, x, halves, c, scale, guided);
      assertSameValues(denoised, expected, `combineGuidance halves n=${n} guided=${guided}`);
    }
  }
});

test('allFinite: false for any NaN or infinity, wherever it is (paired lanes and the odd last value)', () => {
  for (const n of lengths.filter((n) => n > 0)) {
    const a = doubles(n, 1e300);
    assert.equal(allFinite(a), true, `n=${n}`);
    for (const bad of [NaN, Infinity, -Infinity]) {
      for (const at of new Set([0, n - 1, n >> 1])) {
        const b = Float64Array.from(a);
        b[at] = bad;
        assert.equal(allFinite(b), false, `n=${n}: ${bad} at ${at}`);
      }
    }
  }
  assert.equal(allFinite(new Float64Array(0)), true);
  // The largest finite values stay finite: v - v is 0 for them.
  assert.equal(allFinite(Float64Array.of(Number.MAX_VALUE, -Number.MAX_VALUE, Number.MIN_VALUE)), true);
});

const toHalves = (values: ArrayLike<number>) => new Uint16Array(new Float16Array(values).buffer);

test('combineGuidance says whether every D is finite, from float32 or half outputs, wherever a NaN or infinity is', () => {
  for (const n of lengths.filter((n) => n > 0)) {
    for (const guided of [false, true]) {
      for (const halves of [false, true]) {
        const x = doubles(n),
          out = floats(guided ? 2 * n : n);
        const { c, scale } = combineCase(x, out, guided);
        const combine = (xs: Float64Array, values: Float32Array) =>
          combineGuidance(new Float64Array(n), xs, halves ? toHalves(values) : values, c, scale, guided);
        const what = `n=${n} guided=${guided} halves=${halves}`;
        assert.equal(combine(x, out), true, what);
        // In the latent, in the uncond half and in the cond half: first, middle and last values.
        const places = [0, n >> 1, n - 1].flatMap((i) => (guided ? [i, n + i] : [i]));
        for (const bad of [NaN, Infinity, -Infinity]) {
          for (const at of places) {
            const broken = Float32Array.from(out);
            broken[at] = bad;
            assert.equal(combine(x, broken), false, `${what}: ${bad} in the output at ${at}`);
          }
          const brokenX = Float64Array.from(x);
          brokenX[n - 1] = bad;
          assert.equal(combine(brokenX, out), false, `${what}: ${bad} in the latent`);
        }
      }
    }
  }
});

test("combineGuidance: the kernels' check ignores what lies past the last value (an odd count, or halves not four by four)", () => {
  for (const n of [KERNEL_FROM + 1, KERNEL_FROM + 2, KERNEL_FROM + 3, 4 * 64 * 64 + 1]) {
    // Leave NaN in the module's memory (a longer latent's call fills its slots, which then lie elsewhere), then a
    // finite call.
    for (const [halves, longer] of [false, true].flatMap((h) => [n + 3, 3 * n + 5].map((m) => [h, m] as const))) {
      const nan = new Float32Array(2 * longer).fill(NaN);
      combineGuidance(
        new Float64Array(longer),
        new Float64Array(longer).fill(NaN),
        halves ? toHalves(nan) : nan,
        { cSkip: 1, cOut: 1 },
        2,
        true,
      );
      const out = floats(2 * n);
      const finite = combineGuidance(new Float64Array(n), doubles(n), halves ? toHalves(out) : out, { cSkip: 0.9, cOut: -3 }, 7, true);
      assert.equal(finite, true, `n=${n} halves=${halves} after ${longer} NaN values`);
    }
  }
});

test('heunPredict and heunCorrect: to_d, the Euler point, then x + dt * 0.5 * (d + d2), value for value', () => {
  for (const n of lengths) {
    const x = doubles(n),
      first = doubles(n, 1),
      second = doubles(n, 1);
    const [sigma, sigmaNext] = [2.5 + random(), 0.8 + random() / 4],
      dt = sigmaNext - sigma;
    const d = new Float64Array(n),
      xe = new Float64Array(n),
      expected = Float64Array.from(x);
    for (let i = 0; i < n; i++) d[i] = (x[i] - first[i]) / sigma;
    for (let i = 0; i < n; i++) xe[i] = x[i] + dt * d[i];
    for (let i = 0; i < n; i++) expected[i] = expected[i] + dt * 0.5 * (d[i] + (xe[i] - second[i]) / sigmaNext);
    const slope = new Float64Array(n).fill(NaN),
      xEuler = new Float64Array(n).fill(NaN);
    heunPredict(x, first, sigma, dt, slope, xEuler);
    assertSameValues(slope, d, `heunPredict slope n=${n}`);
    assertSameValues(xEuler, xe, `heunPredict xEuler n=${n}`);
    heunCorrect(x, xEuler, second, slope, sigmaNext, dt);
    assertSameValues(x, expected, `heunCorrect n=${n}`);
  }
});

test('axpy: a + scale * b, into another array or in place', () => {
  for (const n of lengths) {
    const a = doubles(n),
      b = doubles(n, 1),
      scale = random() * 3;
    const expected = a.map((v, i) => v + scale * b[i]);
    const out = new Float64Array(n);
    assert.equal(axpy(a, scale, b, out), out);
    assertSameValues(out, expected, `axpy n=${n}`);
    axpy(a, scale, b, a);
    assertSameValues(a, expected, `axpy in place n=${n}`);
  }
});

test('dpmpp2mUpdate: ratio x + weight D, or ratio x + weight (a D - b previous)', () => {
  for (const n of lengths) {
    const x = doubles(n),
      den = doubles(n, 1),
      previous = doubles(n, 1);
    const [ratio, weight, a, b] = [0.8 + random() / 10, 0.2 + random() / 10, 1.6 + random(), 0.6 + random()];
    const first = x.map((v, i) => ratio * v + weight * den[i]);
    const second = first.map((v, i) => ratio * v + weight * (a * den[i] - b * previous[i]));
    dpmpp2mUpdate(x, den, ratio, weight);
    assertSameValues(x, first, `dpmpp2mUpdate first order n=${n}`);
    dpmpp2mUpdate(x, den, ratio, weight, { previous, a, b });
    assertSameValues(x, second, `dpmpp2mUpdate second order n=${n}`);
  }
});
