// The device run's graphs (step-graph.ts) on onnxruntime's CPU provider, which runs them like any graph (on WebGPU
// they run in pipeline/device-latents.test.ts): guidance at the point, the linear step, the next point and UNet
// input, the running finiteness check (the last check plus the sum of D), against the same formulas in float64, for
// float32 and float16 UNets, guided or not.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as ort from 'onnxruntime-node';
import { fromHalfBits, toHalfBits } from './half.ts';
import { startModel, stepModel, STEP_COEFFICIENTS } from './step-graph.ts';
import type { StepCoefficients } from '../guidance/unet.ts';

const dims = [2, 3, 4, 5];
const n = dims.reduce((a, b) => a * b);
const values = (seed: number, count: number) => Float32Array.from({ length: count }, (_, i) => Math.sin(seed * 7.1 + i * 1.37) * 2);
const C: StepCoefficients = {
  scale: 6.5,
  cSkip: 0.8,
  cOut: -1.7,
  x: 0.93,
  point: 0.11,
  denoised: 0.07,
  previous: -0.02,
  noise: 0.4,
  next: { x: 1.2, point: -0.3, denoised: 0.05 },
  cInNext: 0.31,
};
/** C in the graph's input order, written out here. */
const FLAT = [6.5, 0.8, -1.7, 0.93, 0.11, 0.07, -0.02, 0.4, 1.2, -0.3, 0.05, 0.31];

async function session(model: Uint8Array) {
  return ort.InferenceSession.create(model, { executionProviders: ['cpu'] });
}

const unetValues = (t: ort.Tensor) => (t.type === 'float16' ? fromHalfBits(t.data as Uint16Array) : (t.data as Float32Array));

for (const unetFloat of ['float32', 'float16'] as const) {
  for (const guided of [true, false]) {
    test(`${unetFloat}, ${guided ? 'guided' : 'unguided'}: the step graph does guidance, the linear step and the next input`, async () => {
      const rows = guided ? 2 : 1;
      const x = values(1, n),
        previous = values(2, n),
        noise = values(3, n),
        point = values(5, n);
      const outValues = values(4, rows * n);
      const modelOut =
        unetFloat === 'float16'
          ? new ort.Tensor('float16', toHalfBits(outValues), [rows * dims[0], ...dims.slice(1)])
          : new ort.Tensor('float32', outValues, [rows * dims[0], ...dims.slice(1)]);
      const out0 = unetValues(modelOut);
      const step = await session(stepModel(unetFloat, guided, { point: true, next: true, previous: true, noise: true }));
      assert.equal(STEP_COEFFICIENTS.length, FLAT.length);
      const coefficients = new ort.Tensor('float32', Float32Array.from(FLAT), [FLAT.length]);
      const feeds = {
        x: new ort.Tensor('float32', x, dims),
        point: new ort.Tensor('float32', point, dims),
        model_out: modelOut,
        previous: new ort.Tensor('float32', previous, dims),
        noise: new ort.Tensor('float32', noise, dims),
        coefficients,
        checked: new ort.Tensor('float32', Float32Array.of(1.5), [1]),
      };
      const out = await step.run(feeds);
      // D at the point; the new latent; the next point, which the next UNet input scales.
      const D = Float64Array.from(point, (v, i) => C.cSkip * v + C.cOut * (guided ? out0[i] + C.scale * (out0[n + i] - out0[i]) : out0[i]));
      const xNext = Float64Array.from(
        x,
        (v, i) => C.x * v + C.point * point[i] + C.denoised * D[i] + C.previous * previous[i] + C.noise * noise[i],
      );
      const next = Float64Array.from(x, (v, i) => C.next!.x * v + C.next!.point * point[i] + C.next!.denoised * D[i]);
      const close = (got: ArrayLike<number>, want: ArrayLike<number>, tolerance: number, what: string) => {
        for (let i = 0; i < want.length; i++) assert.ok(Math.abs(got[i] - want[i]) <= tolerance * (1 + Math.abs(want[i])), `${what} ${i}`);
      };
      close(out.denoised.data as Float32Array, D, 1e-5, 'D');
      close(out.x_next.data as Float32Array, xNext, 1e-5, 'x');
      close(out.point_next.data as Float32Array, next, 1e-5, 'the next point');
      const sample = unetValues(out.sample);
      assert.equal(sample.length, rows * n);
      for (let r = 0; r < rows; r++)
        close(
          sample.subarray(r * n, (r + 1) * n),
          next.map((v) => v * C.cInNext),
          unetFloat === 'float16' ? 1e-3 : 1e-5,
          'sample',
        );
      close(out.checked_next.data as Float32Array, [1.5 + D.reduce((sum, v) => sum + v)], 1e-4, 'the last check plus the sum of D');
      // The graph of a step without those terms (Euler's) has no such inputs, and its sample is c_in of the new latent.
      const plainStep = await session(stepModel(unetFloat, guided, { point: false, next: false, previous: false, noise: false }));
      assert.deepEqual(plainStep.inputNames, ['x', 'model_out', 'coefficients', 'checked']);
      const plain = await plainStep.run({ x: feeds.x, model_out: feeds.model_out, coefficients, checked: feeds.checked });
      // D at the latent itself, which is the point here.
      const atX = Float64Array.from(x, (v, i) => C.cSkip * v + C.cOut * (guided ? out0[i] + C.scale * (out0[n + i] - out0[i]) : out0[i]));
      const expected = Float64Array.from(x, (v, i) => C.x * v + C.denoised * atX[i]);
      close(plain.denoised.data as Float32Array, atX, 1e-5, 'D at x');
      close(plain.x_next.data as Float32Array, expected, 1e-5, 'x without extras');
      const plainSample = unetValues(plain.sample);
      close(
        plainSample.subarray(0, n),
        expected.map((v) => v * C.cInNext),
        unetFloat === 'float16' ? 1e-3 : 1e-5,
        'plain sample',
      );
      await plainStep.release();
      // One infinity in the model's output makes the check not finite, and a check that is not finite stays so.
      const bad = Float32Array.from(outValues);
      bad[5] = Infinity;
      const badOut =
        unetFloat === 'float16' ? new ort.Tensor('float16', toHalfBits(bad), modelOut.dims) : new ort.Tensor('float32', bad, modelOut.dims);
      assert.ok(!Number.isFinite((await step.run({ ...feeds, model_out: badOut })).checked_next.data[0]));
      const broken = new ort.Tensor('float32', Float32Array.of(NaN), [1]);
      assert.ok(Number.isNaN((await step.run({ ...feeds, checked: broken })).checked_next.data[0]));
      await step.release();

      const start = await session(startModel(unetFloat, guided));
      const started = await start.run({ x: feeds.x, c_in: new ort.Tensor('float32', Float32Array.of(0.25), [1]) });
      assert.deepEqual(started.x_out.data, x);
      const first = unetValues(started.sample);
      for (let r = 0; r < rows; r++)
        close(
          first.subarray(r * n, (r + 1) * n),
          x.map((v) => v * 0.25),
          1e-3,
          'first sample',
        );
      await start.release();
    });
  }
}
