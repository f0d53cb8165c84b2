// The samplers' and the denoiser's element-wise loops over the latent, which run between two UNet calls, in
// WebAssembly with SIMD (two float64 lanes at a time): latent-kernels.wat, compiled by `npm run build:kernels`.
// V8 runs such loops one value at a time; at 4x64x64 they were most of a step's time outside the UNet.
// The arrays stay the callers' own: a call copies its inputs into the module's memory and its results back out
// (memcpy, about 1 us per 128 KiB), so no caller holds a view that a growing memory would detach. Each formula is
// the one written in its comment, operation for operation, so the values are those of the same loop in JavaScript.
import { LATENT_KERNELS_WASM } from './latent-kernels-wasm.ts';

interface WasmConstructors {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object) => { exports: object };
}

// Offsets are bytes; `bytes` is one float64 array's length in bytes, padded to whole pairs.
interface KernelExports {
  memory: { buffer: ArrayBuffer; grow(pages: number): number };
  euler_step(x: number, d: number, bytes: number, sigma: number, dt: number): void;
  all_finite(a: number, bytes: number): number;
  scale_input(sample: number, x: number, bytes: number, cIn: number): void;
  combine(d: number, x: number, u: number, c: number, bytes: number, cSkip: number, cOut: number, w: number, guided: number): void;
  heun_predict(slope: number, xe: number, x: number, den: number, bytes: number, sigma: number, dt: number): void;
  heun_correct(x: number, xe: number, den: number, slope: number, bytes: number, sigmaNext: number, halfDt: number): void;
  axpy(out: number, a: number, b: number, bytes: number, scale: number): void;
  dpmpp_2m(x: number, den: number, prev: number, bytes: number, ratio: number, weight: number, a: number, b: number, second: number): void;
}

// TypeScript declares WebAssembly in its DOM library only; these are the two constructors used here.
const { Module, Instance } = (globalThis as unknown as { WebAssembly: WasmConstructors }).WebAssembly;
const kernels = new Instance(new Module(Buffer.from(LATENT_KERNELS_WASM, 'base64'))).exports as unknown as KernelExports;
let f64 = new Float64Array(kernels.memory.buffer);
let f32 = new Float32Array(kernels.memory.buffer);

/**
 * The memory as `count` slots of n values each (float64, or float32 in the slot's first half), n rounded up to a
 * pair; growing the memory replaces its buffer, so the views follow.
 */
class Slots {
  readonly size: number;
  readonly bytes: number;

  constructor(
    readonly n: number,
    count: number,
  ) {
    this.size = n + (n & 1);
    this.bytes = 8 * this.size;
    const missing = count * this.bytes - kernels.memory.buffer.byteLength;
    if (missing > 0) kernels.memory.grow(Math.ceil(missing / 65536));
    if (f64.buffer !== kernels.memory.buffer) {
      f64 = new Float64Array(kernels.memory.buffer);
      f32 = new Float32Array(kernels.memory.buffer);
    }
  }

  at(slot: number): number {
    return slot * this.bytes;
  }

  /** Copies n float64 values into a slot (an odd n's pad lane gets 0: finite, and never copied out). */
  put(slot: number, values: Float64Array): number {
    const start = slot * this.size;
    f64.set(values, start);
    if (this.n & 1) f64[start + this.n] = 0;
    return this.at(slot);
  }

  putFloats(slot: number, values: Float32Array): number {
    const start = 2 * slot * this.size;
    f32.set(values, start);
    if (this.n & 1) f32[start + this.n] = 0;
    return this.at(slot);
  }

  take(slot: number): Float64Array {
    return f64.subarray(slot * this.size, slot * this.size + this.n);
  }

  takeFloats(slot: number): Float32Array {
    return f32.subarray(2 * slot * this.size, 2 * slot * this.size + this.n);
  }
}

function checkLength(what: string, a: ArrayLike<number>, expected: number): void {
  if (a.length !== expected) throw new RangeError(`${what} has ${a.length} values, expected ${expected}`);
}

/** An Euler step in place: x = x + (sigmaTo - sigma) * ((x - D) / sigma), k-diffusion's to_d then x + d * dt. */
export function eulerStep(x: Float64Array, sigma: number, denoised: Float64Array, sigmaTo: number): void {
  checkLength('denoised', denoised, x.length);
  const s = new Slots(x.length, 2);
  kernels.euler_step(s.put(0, x), s.put(1, denoised), s.bytes, sigma, sigmaTo - sigma);
  x.set(s.take(0));
}

/** Whether every value is finite. */
export function allFinite(a: Float64Array): boolean {
  const s = new Slots(a.length, 1);
  return kernels.all_finite(s.put(0, a), s.bytes) === 1;
}

/** sample = float32(c_in * x), twice over when guided (a guided batch's [uncond, cond] halves see the same latents). */
export function scaleInput(sample: Float32Array, x: Float64Array, cIn: number, guided: boolean): void {
  const n = x.length;
  checkLength('the UNet sample', sample, guided ? 2 * n : n);
  const s = new Slots(n, 2);
  kernels.scale_input(s.at(1), s.put(0, x), s.bytes, cIn);
  sample.set(s.takeFloats(1));
  if (guided) sample.set(s.takeFloats(1), n);
}

/**
 * D = c_skip x + c_out (out_u + w (out_c - out_u)) from a guided batch's float32 output [uncond, cond], or
 * c_skip x + c_out out unguided (guidance is linear, so it combines the model outputs before the map to D).
 */
export function combineGuidance(
  denoised: Float64Array,
  x: Float64Array,
  out: Float32Array,
  c: { cSkip: number; cOut: number },
  scale: number,
  guided: boolean,
): void {
  const n = x.length;
  checkLength('denoised', denoised, n);
  checkLength('the UNet output', out, guided ? 2 * n : n);
  const s = new Slots(n, 4);
  const cond = guided ? s.putFloats(2, out.subarray(n)) : 0;
  kernels.combine(s.at(3), s.put(0, x), s.putFloats(1, out.subarray(0, n)), cond, s.bytes, c.cSkip, c.cOut, scale, guided ? 1 : 0);
  denoised.set(s.take(3));
}

/** Heun's first half: slope = (x - D) / sigma (k-diffusion's to_d) and the Euler point xEuler = x + dt * slope. */
export function heunPredict(x: Float64Array, denoised: Float64Array, sigma: number, dt: number, slope: Float64Array, xEuler: Float64Array) {
  const n = x.length;
  checkLength('denoised', denoised, n);
  checkLength('slope', slope, n);
  checkLength('xEuler', xEuler, n);
  const s = new Slots(n, 4);
  kernels.heun_predict(s.at(2), s.at(3), s.put(0, x), s.put(1, denoised), s.bytes, sigma, dt);
  slope.set(s.take(2));
  xEuler.set(s.take(3));
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
  for (const [what, a] of [
    ['xEuler', xEuler],
    ['denoised', denoised],
    ['slope', slope],
  ] as const)
    checkLength(what, a, n);
  const s = new Slots(n, 4);
  kernels.heun_correct(s.put(0, x), s.put(1, xEuler), s.put(2, denoised), s.put(3, slope), s.bytes, sigmaNext, dt * 0.5);
  x.set(s.take(0));
}

/** out = a + scale * b (out may be a itself). */
export function axpy(a: Float64Array, scale: number, b: Float64Array, out: Float64Array): Float64Array {
  checkLength('b', b, a.length);
  checkLength('out', out, a.length);
  const s = new Slots(a.length, 3);
  kernels.axpy(s.at(2), s.put(0, a), s.put(1, b), s.bytes, scale);
  out.set(s.take(2));
  return out;
}

/**
 * A DPM-Solver++(2M) update in place: x = ratio * x + weight * D, or, with the previous estimate,
 * x = ratio * x + weight * (a * D - b * previous).
 */
export function dpmpp2mUpdate(
  x: Float64Array,
  denoised: Float64Array,
  previous: Float64Array | undefined,
  ratio: number,
  weight: number,
  a: number,
  b: number,
): void {
  const n = x.length;
  checkLength('denoised', denoised, n);
  if (previous) checkLength('previous', previous, n);
  const s = new Slots(n, 3);
  const prev = previous ? s.put(2, previous) : 0;
  kernels.dpmpp_2m(s.put(0, x), s.put(1, denoised), prev, s.bytes, ratio, weight, a, b, previous ? 1 : 0);
  x.set(s.take(0));
}
