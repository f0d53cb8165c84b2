// The samplers' and the denoiser's element-wise loops over the latent, which run between two UNet calls, in
// WebAssembly with SIMD (two float64 lanes at a time): latent-kernels.wat, compiled by `npm run build:kernels`.
// V8 runs such loops one value at a time; at 4x64x64 they were most of a step's time outside the UNet.
// A call copies arrays from elsewhere into the module's memory and its results back out; a workspace's arrays are
// worked on in place (kernel-memory.ts). Below KERNEL_FROM values the copies cost more than they save (the memory
// they touch is cold after a UNet run), and the same formula runs as a JavaScript loop. Both do the operations of the
// formula in its comment in the same order (WebAssembly never fuses a multiply with an add), so both give the same
// values.
import { memoryFor } from './kernel-memory.ts';

/** The length from which the kernels run: in A/B runs of the embedded model they were about even with the loops at
 * 4096 values (128x128), behind at 1024 and well ahead at 16384. */
export const KERNEL_FROM = 4096;

function checkLength(what: string, a: ArrayLike<number>, expected: number): void {
  if (a.length !== expected) throw new RangeError(`${what} has ${a.length} values, expected ${expected}`);
}

/** An Euler step in place: x = x + (sigmaTo - sigma) * ((x - D) / sigma), k-diffusion's to_d then x + d * dt. */
export function eulerStep(x: Float64Array, sigma: number, denoised: Float64Array, sigmaTo: number): void {
  checkLength('denoised', denoised, x.length);
  if (x.length < KERNEL_FROM) {
    const dt = sigmaTo - sigma;
    for (let i = 0; i < x.length; i++) x[i] = x[i] + dt * ((x[i] - denoised[i]) / sigma);
    return;
  }
  const m = memoryFor(x, x.length);
  m.kernels.euler_step(m.input(0, x), m.input(1, denoised), m.slotBytes, sigma, sigmaTo - sigma);
  m.copyOut(0, x);
}

/** Whether every value is finite: v - v is 0 for a finite v and NaN otherwise, and a NaN stays NaN through a sum. */
export function allFinite(a: Float64Array): boolean {
  if (a.length < KERNEL_FROM) {
    // Two sums in turn: each waits on its own previous addition only.
    let even = 0,
      odd = 0,
      i = 0;
    for (; i + 1 < a.length; i += 2) {
      even += a[i] - a[i];
      odd += a[i + 1] - a[i + 1];
    }
    if (i < a.length) even += a[i] - a[i];
    return even + odd === 0;
  }
  const m = memoryFor(a, a.length);
  return m.kernels.all_finite(m.input(0, a), m.slotBytes) === 1;
}

/**
 * sample = float32(c_in * x), twice over when guided (a guided batch's [uncond, cond] halves see the same latents). A
 * Uint16Array sample takes those values' half bit patterns (an fp16 UNet's input), from the kernels at any length.
 */
export function scaleInput(sample: Float32Array | Uint16Array, x: Float64Array, cIn: number, guided: boolean): void {
  const n = x.length;
  checkLength('the UNet sample', sample, guided ? 2 * n : n);
  const half = sample instanceof Uint16Array;
  if (n < KERNEL_FROM && !half) {
    for (let i = 0; i < n; i++) sample[i] = cIn * x[i];
    if (guided) sample.copyWithin(n, 0, n);
    return;
  }
  const m = memoryFor(sample, n);
  // Written in place where the sample lives in the memory (a workspace's UNet input), otherwise in slot 1 and copied.
  const at = m.holds(sample) ? sample.byteOffset : m.slotBytes;
  (half ? m.kernels.scale_input_half : m.kernels.scale_input)(at, m.input(0, x), m.slotBytes, cIn);
  if (m.holds(sample)) {
    if (guided) sample.copyWithin(n, 0, n);
    return;
  }
  const scaled = half ? m.scaledHalves : m.scaledFloats;
  sample.set(scaled);
  if (guided) sample.set(scaled, n);
}

/**
 * D = c_skip x + c_out (out_u + w (out_c - out_u)) from a guided batch's float32 output [uncond, cond], or
 * c_skip x + c_out out unguided (guidance is linear, so it combines the model outputs before the map to D). A
 * Uint16Array output is an fp16 UNet's half bit patterns, read by the kernels at any length. Returns whether every
 * value of D is finite (allFinite(denoised), checked in the same pass by the kernels).
 */
export function combineGuidance(
  denoised: Float64Array,
  x: Float64Array,
  out: Float32Array | Uint16Array,
  c: { cSkip: number; cOut: number },
  scale: number,
  guided: boolean,
): boolean {
  const n = x.length;
  checkLength('denoised', denoised, n);
  checkLength('the UNet output', out, guided ? 2 * n : n);
  const { cSkip, cOut } = c;
  const half = out instanceof Uint16Array;
  if (n < KERNEL_FROM && !half) {
    if (guided) for (let i = 0; i < n; i++) denoised[i] = cSkip * x[i] + cOut * (out[i] + scale * (out[n + i] - out[i]));
    else for (let i = 0; i < n; i++) denoised[i] = cSkip * x[i] + cOut * out[i];
    return allFinite(denoised);
  }
  const m = memoryFor(denoised, n);
  // The output is read in place where it lives in the memory (a workspace's, written there by onnxruntime), otherwise
  // slot 1 takes all of it, its cond half right after the uncond half (an odd n's pad lanes read a neighbour's value or
  // a stale one: their results are never copied out). No subarray: a typed array made between two UNet calls costs
  // microseconds once the CPU has been idle.
  const outAt = m.holds(out) ? out.byteOffset : m.slotBytes;
  if (!m.holds(out)) (half ? m.modelHalves : m.modelOutput).set(out);
  const condAt = outAt + (half ? 2 : 4) * n;
  const combine = half ? m.kernels.combine_half : m.kernels.combine;
  // D is written in place, or replaces x's copy in slot 0: one cold slot fewer to write after the UNet's wait. (The
  // halves' last four values may write two lanes past it, over slot 1's first halves, which the loop has read by then.)
  const xAt = m.input(0, x);
  const finite = combine(m.output(0, denoised), xAt, outAt, condAt, m.slotBytes, cSkip, cOut, scale, guided ? 1 : 0) === 1;
  m.copyOut(0, denoised);
  // The kernels' check covers the lanes past n too, which hold no value of D where a pair (four values for halves)
  // is not whole.
  return n % (half ? 4 : 2) === 0 ? finite : allFinite(denoised);
}

/** Heun's first half: slope = (x - D) / sigma (k-diffusion's to_d) and the Euler point xEuler = x + dt * slope. */
export function heunPredict(x: Float64Array, denoised: Float64Array, sigma: number, dt: number, slope: Float64Array, xEuler: Float64Array) {
  const n = x.length;
  checkLength('denoised', denoised, n);
  checkLength('slope', slope, n);
  checkLength('xEuler', xEuler, n);
  if (n < KERNEL_FROM) {
    for (let i = 0; i < n; i++) slope[i] = (x[i] - denoised[i]) / sigma;
    for (let i = 0; i < n; i++) xEuler[i] = x[i] + dt * slope[i];
    return;
  }
  const m = memoryFor(slope, n);
  m.kernels.heun_predict(m.output(2, slope), m.output(3, xEuler), m.input(0, x), m.input(1, denoised), m.slotBytes, sigma, dt);
  m.copyOut(2, slope);
  m.copyOut(3, xEuler);
}

/** Heun's second half in place: x = x + dt * 0.5 * (slope + (xEuler - D') / sigmaNext). */
export function heunCorrect(
  x: Float64Array,
  xEuler: Float64Array,
  denoised: Float64Array,
  slope: Float64Array,
  sigmaNext: number,
  dt: number,
) {
  const n = x.length;
  checkLength('xEuler', xEuler, n);
  checkLength('denoised', denoised, n);
  checkLength('slope', slope, n);
  if (n < KERNEL_FROM) {
    for (let i = 0; i < n; i++) x[i] = x[i] + dt * 0.5 * (slope[i] + (xEuler[i] - denoised[i]) / sigmaNext);
    return;
  }
  const m = memoryFor(x, n);
  m.kernels.heun_correct(m.input(0, x), m.input(1, xEuler), m.input(2, denoised), m.input(3, slope), m.slotBytes, sigmaNext, dt * 0.5);
  m.copyOut(0, x);
}

/** out = a + scale * b (out may be a itself). */
export function axpy(a: Float64Array, scale: number, b: Float64Array, out: Float64Array): Float64Array {
  checkLength('b', b, a.length);
  checkLength('out', out, a.length);
  if (a.length < KERNEL_FROM) {
    for (let i = 0; i < a.length; i++) out[i] = a[i] + scale * b[i];
    return out;
  }
  const m = memoryFor(out, a.length);
  m.kernels.axpy(m.output(2, out), m.input(0, a), m.input(1, b), m.slotBytes, scale);
  m.copyOut(2, out);
  return out;
}

/**
 * A DPM-Solver++(2M) update in place: x = ratio * x + weight * D, or, with the second-order correction from the
 * previous estimate, x = ratio * x + weight * (a * D - b * previous).
 */
export function dpmpp2mUpdate(
  x: Float64Array,
  denoised: Float64Array,
  ratio: number,
  weight: number,
  correction?: { previous: Float64Array; a: number; b: number },
): void {
  checkLength('denoised', denoised, x.length);
  if (correction) checkLength('previous', correction.previous, x.length);
  const { previous, a, b } = correction ?? { previous: undefined, a: 0, b: 0 };
  if (x.length < KERNEL_FROM) {
    if (previous) for (let j = 0; j < x.length; j++) x[j] = ratio * x[j] + weight * (a * denoised[j] - b * previous[j]);
    else for (let j = 0; j < x.length; j++) x[j] = ratio * x[j] + weight * denoised[j];
    return;
  }
  const m = memoryFor(x, x.length);
  const prev = previous ? m.input(2, previous) : 0;
  m.kernels.dpmpp_2m(m.input(0, x), m.input(1, denoised), prev, m.slotBytes, ratio, weight, a, b, previous ? 1 : 0);
  m.copyOut(0, x);
}
