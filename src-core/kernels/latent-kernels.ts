// The samplers' and the denoiser's element-wise loops over the latent, which run between two UNet calls, in
// WebAssembly with SIMD (two float64 lanes at a time): latent-kernels.wat, compiled by `npm run build:kernels`.
// V8 runs such loops one value at a time; at 4x64x64 they were most of a step's time outside the UNet.
// The arrays stay the callers' own: a call copies its inputs into the module's memory and its results back out
// (memcpy, about 1 us per 128 KiB), so no caller holds a view that a growing memory would detach. Below KERNEL_FROM
// values the copies cost more than they save (the memory they touch is cold after a UNet run), and the same formula
// runs as a JavaScript loop. Both do the operations of the formula in its comment in the same order (WebAssembly never
// fuses a multiply with an add), so both give the same values.
import { kernelInstance, reserveBytes } from './instance.ts';

const kernels = kernelInstance();

/**
 * The memory as SLOTS slots of `values` float64 each, rounded up to a pair (slot 1 also as float32 values or half bit
 * patterns from its start). The layout and its views stay while the length does (a run passes arrays of one length at
 * every step); growing the memory replaces its buffer, and only `layout` grows it, rebuilding every view.
 */
const SLOTS = 4;
/** The length from which the kernels run: in A/B runs of the embedded model they were about even with the loops at
 * 4096 values (128x128), behind at 1024 and well ahead at 16384. */
export const KERNEL_FROM = 4096;
let values = -1,
  slotBytes = 0,
  all64 = new Float64Array(0),
  doubles: Float64Array[] = [],
  scaledFloats = new Float32Array(0),
  scaledHalves = new Uint16Array(0),
  modelOutput = new Float32Array(0),
  modelHalves = new Uint16Array(0);

function layout(count: number): void {
  if (count === values) return;
  const pairBytes = 8 * (count + (count & 1));
  reserveBytes(kernels, SLOTS * pairBytes + 32); // the fp16 kernels, four values at a time, may touch two past the end
  const buffer = kernels.memory.buffer;
  values = count;
  slotBytes = pairBytes;
  all64 = new Float64Array(buffer);
  doubles = Array.from({ length: SLOTS }, (_, k) => new Float64Array(buffer, k * slotBytes, count));
  // The UNet input's scaling writes slot 1 as float32 values or half bit patterns.
  scaledFloats = new Float32Array(buffer, slotBytes, count);
  scaledHalves = new Uint16Array(buffer, slotBytes, count);
  // A guided UNet output [uncond, cond] as one float32 array filling slot 1 (or half bit patterns in its first half).
  modelOutput = new Float32Array(buffer, slotBytes, 2 * count);
  modelHalves = new Uint16Array(buffer, slotBytes, 2 * count);
}

/** Copies an array into a slot, an odd length's pad lane set to 0 (finite, and never copied out); the slot's offset. */
function put(slot: number, array: Float64Array): number {
  doubles[slot].set(array);
  if (values & 1) all64[slot * (slotBytes / 8) + values] = 0;
  return slot * slotBytes;
}

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
  layout(x.length);
  kernels.euler_step(put(0, x), put(1, denoised), slotBytes, sigma, sigmaTo - sigma);
  x.set(doubles[0]);
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
  layout(a.length);
  return kernels.all_finite(put(0, a), slotBytes) === 1;
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
  layout(n);
  if (half) kernels.scale_input_half(slotBytes, put(0, x), slotBytes, cIn);
  else kernels.scale_input(slotBytes, put(0, x), slotBytes, cIn);
  const scaled = half ? scaledHalves : scaledFloats;
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
  layout(n);
  // Slot 1 takes the whole output, its cond half right after the uncond half (an odd n's pad lanes read a neighbour's
  // value or a stale one: their results are never copied out). No subarray: a typed array made between two UNet
  // calls costs microseconds once the CPU has been idle.
  if (half) modelHalves.set(out);
  else modelOutput.set(out);
  const condAt = slotBytes + (half ? 2 : 4) * n;
  const combine = half ? kernels.combine_half : kernels.combine;
  // D replaces x in slot 0: one cold slot fewer to write after the UNet's wait. (The halves' last four values may
  // write two lanes past it, over slot 1's first halves, which the loop has read by then.)
  const finite = combine(0, put(0, x), slotBytes, condAt, slotBytes, cSkip, cOut, scale, guided ? 1 : 0) === 1;
  denoised.set(doubles[0]);
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
  layout(n);
  kernels.heun_predict(2 * slotBytes, 3 * slotBytes, put(0, x), put(1, denoised), slotBytes, sigma, dt);
  slope.set(doubles[2]);
  xEuler.set(doubles[3]);
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
  layout(n);
  kernels.heun_correct(put(0, x), put(1, xEuler), put(2, denoised), put(3, slope), slotBytes, sigmaNext, dt * 0.5);
  x.set(doubles[0]);
}

/** out = a + scale * b (out may be a itself). */
export function axpy(a: Float64Array, scale: number, b: Float64Array, out: Float64Array): Float64Array {
  checkLength('b', b, a.length);
  checkLength('out', out, a.length);
  if (a.length < KERNEL_FROM) {
    for (let i = 0; i < a.length; i++) out[i] = a[i] + scale * b[i];
    return out;
  }
  layout(a.length);
  kernels.axpy(2 * slotBytes, put(0, a), put(1, b), slotBytes, scale);
  out.set(doubles[2]);
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
  layout(x.length);
  const prev = previous ? put(2, previous) : 0;
  kernels.dpmpp_2m(put(0, x), put(1, denoised), prev, slotBytes, ratio, weight, a, b, previous ? 1 : 0);
  x.set(doubles[0]);
}
