// The one-pass linear step (linear-step.wat) against its formulas written out here in float64, in the kernel's order,
// value for value: float32 and fp16 UNets, guided or not, with and without D_prev, noise and a next point of its own.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LatentWorkspace } from './kernel-memory.ts';
import { linearStep, type LinearStepCoefficients } from './linear-step.ts';
import { halfToFloat, toHalfBits } from '../model/half.ts';

const n = 64; // under HALF_KERNEL_FROM: the reference's half conversions are model/half.ts's loops, not a kernel

function filled(array: Float64Array | Float32Array, seed: number): void {
  for (let i = 0; i < array.length; i++) array[i] = Math.sin(seed * 12.9898 + i * 78.233) * 3;
}

interface Case {
  guided: boolean;
  half: boolean;
  previous: boolean;
  noise: boolean;
  next: boolean;
  /** The point is x itself (every step's first evaluation) or an array of its own. */
  pointIsX: boolean;
}

const coefficients = (c: Case): LinearStepCoefficients => ({
  scale: c.guided ? 6.5 : 1,
  cSkip: 0.83,
  cOut: -1.7,
  x: 0.61,
  point: c.pointIsX ? 0 : 0.27,
  denoised: 0.39,
  previous: c.previous ? -0.21 : 0,
  noise: c.noise ? 0.44 : 0,
  next: c.next ? { x: 1.3, point: -0.2, denoised: -0.3 } : undefined,
  cInNext: 0.137,
});

function runCase(c: Case) {
  const w = LatentWorkspace.take(n, 6);
  try {
    const [x, own, d, prev, z] = [0, 1, 2, 3, 4].map((k) => w.array(k)!);
    const point = c.pointIsX ? x : own;
    const values = c.guided ? 2 * n : n;
    const out = w.unetOutput(c.half, values);
    const input = w.unetInput(c.half, values);
    filled(x, 1);
    filled(own, 2);
    filled(prev, 3);
    filled(z, 4);
    const outFloats = new Float32Array(values);
    filled(outFloats, 5);
    if (c.half) toHalfBits(outFloats, out as Uint16Array);
    else out.set(outFloats);
    const outValue = (i: number) => (c.half ? halfToFloat((out as Uint16Array)[i]) : (out as Float32Array)[i]);
    const k = coefficients(c);
    // The expected values, from copies of the inputs.
    const [x0, y0, p0, z0] = [x, point, prev, z].map((a) => Float64Array.from(a));
    const D = new Float64Array(n),
      X = new Float64Array(n),
      Y = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const u = outValue(i);
      const g = c.guided ? u + k.scale * (outValue(n + i) - u) : u;
      D[i] = k.cSkip * y0[i] + k.cOut * g;
      let v = k.x * x0[i] + k.point * y0[i] + k.denoised * D[i];
      if (c.previous) v = v + k.previous * p0[i];
      if (c.noise) v = v + k.noise * z0[i];
      X[i] = v;
      Y[i] = k.next ? k.next.x * x0[i] + k.next.point * y0[i] + k.next.denoised * D[i] : v; // the next point from the old x
    }
    const scaled = Float32Array.from(Y, (v) => k.cInNext * v);
    const expectedInput = c.half ? toHalfBits(scaled) : scaled;
    const nextPoint = c.pointIsX ? own : point; // in place where the point has an array of its own
    const finite = linearStep(
      { x, point, nextPoint, denoised: d, previous: c.previous ? prev : undefined, noise: c.noise ? z : undefined, out, input },
      k,
      c.guided,
    );
    assert.equal(finite, true);
    assert.deepEqual(d, D, 'D');
    assert.deepEqual(x, X, 'x');
    if (c.next) assert.deepEqual(nextPoint, Y, 'the next point');
    assert.deepEqual(Array.from(input.subarray(0, n)), Array.from(expectedInput), 'the next input');
    if (c.guided) assert.deepEqual(Array.from(input.subarray(n)), Array.from(expectedInput), "the next input's cond half");
  } finally {
    w.release();
  }
}

for (const guided of [true, false])
  for (const half of [false, true])
    test(`linear step, ${half ? 'fp16' : 'float32'} UNet, ${guided ? 'guided' : 'unguided'}: the formulas' values`, () => {
      for (const previous of [false, true])
        for (const noise of [false, true])
          for (const next of [false, true])
            for (const pointIsX of [true, false]) runCase({ guided, half, previous, noise, next, pointIsX });
    });

test('linear step: a NaN or an infinity in D is reported, and the arrays must be in one workspace', () => {
  const w = LatentWorkspace.take(n, 6);
  try {
    const [x, y, d] = [0, 1, 2].map((k) => w.array(k)!);
    x.fill(0.5);
    const out = w.unetOutput(false, 2 * n) as Float32Array;
    const input = w.unetInput(false, 2 * n);
    const c = coefficients({ guided: true, half: false, previous: false, noise: false, next: false, pointIsX: true });
    for (const bad of [NaN, Infinity]) {
      out.fill(0.1);
      out[n + 37] = bad;
      assert.equal(linearStep({ x, point: x, nextPoint: y, denoised: d, out, input }, c, true), false, String(bad));
    }
    out.fill(0.1);
    x.fill(0.5); // the steps above wrote the non-finite D into x
    assert.equal(linearStep({ x, point: x, nextPoint: y, denoised: d, out, input }, c, true), true);
    const outside = new Float64Array(n);
    assert.throws(() => linearStep({ x, point: x, nextPoint: y, denoised: outside, out, input }, c, true), /workspace/);
    assert.throws(() => linearStep({ x, point: x, nextPoint: x, denoised: d, out, input }, { ...c, next: c }, true), /over x/);
  } finally {
    w.release();
  }
});
