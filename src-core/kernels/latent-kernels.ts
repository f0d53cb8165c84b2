// The latent's element-wise loops that run at every step (the Euler step, the guard's finite check, the denoiser's
// input scaling and guidance combine) in WebAssembly with SIMD, two float64 lanes at a time: latent-kernels.wat,
// compiled by `npm run build:kernels`. V8 runs such loops one value at a time; at 4x64x64 they were 140 us of a
// step, the UNet's output and the latent read back from memory each time.
// The arrays stay the callers' own: a call copies its inputs into the module's memory and its result back out
// (memcpy, about 1 us per 128 KiB), so no caller holds a view that a growing memory would detach.
import { LATENT_KERNELS_WASM } from './latent-kernels-wasm.ts';

interface WasmConstructors {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object) => { exports: object };
}

interface KernelExports {
  memory: { buffer: ArrayBuffer; grow(pages: number): number };
  euler_step(x: number, d: number, n: number, sigma: number, dt: number): void;
  scale_input(sample: number, x: number, n: number, cIn: number, twice: number): void;
  combine(d: number, x: number, out: number, n: number, cSkip: number, cOut: number, scale: number, guided: number): void;
  all_finite(a: number, n: number): number;
}

// TypeScript declares WebAssembly in its DOM library only; these are the two constructors used here.
const { Module, Instance } = (globalThis as unknown as { WebAssembly: WasmConstructors }).WebAssembly;
const kernels = new Instance(new Module(Buffer.from(LATENT_KERNELS_WASM, 'base64'))).exports as unknown as KernelExports;
let f64 = new Float64Array(kernels.memory.buffer);
let f32 = new Float32Array(kernels.memory.buffer);

/** Room for `doubles` float64 values from offset 0; growing the memory replaces its buffer, so the views follow. */
function reserve(doubles: number): void {
  const missing = doubles * 8 - kernels.memory.buffer.byteLength;
  if (missing > 0) kernels.memory.grow(Math.ceil(missing / 65536));
  if (f64.buffer !== kernels.memory.buffer) {
    f64 = new Float64Array(kernels.memory.buffer);
    f32 = new Float32Array(kernels.memory.buffer);
  }
}

function sameLength(what: string, a: ArrayLike<number>, expected: number): void {
  if (a.length !== expected) throw new RangeError(`${what} has ${a.length} values, expected ${expected}`);
}

/** An Euler step in place: x += (sigmaTo - sigma) * ((x - D) / sigma), k-diffusion's to_d then x + d * dt. */
export function eulerStep(x: Float64Array, sigma: number, denoised: Float64Array, sigmaTo: number): void {
  const n = x.length;
  sameLength('denoised', denoised, n);
  reserve(2 * n);
  f64.set(x, 0);
  f64.set(denoised, n);
  kernels.euler_step(0, 8 * n, n, sigma, sigmaTo - sigma);
  x.set(f64.subarray(0, n));
}

/** Whether every value is finite. */
export function allFinite(a: Float64Array): boolean {
  reserve(a.length);
  f64.set(a, 0);
  return kernels.all_finite(0, a.length) === 1;
}

/** sample = float32(c_in * x), twice over when guided (a guided batch's [uncond, cond] halves see the same latents). */
export function scaleInput(sample: Float32Array, x: Float64Array, cIn: number, guided: boolean): void {
  const n = x.length;
  sameLength('the UNet sample', sample, guided ? 2 * n : n);
  reserve(2 * n);
  f64.set(x, 0);
  kernels.scale_input(8 * n, 0, n, cIn, guided ? 1 : 0);
  sample.set(f32.subarray(2 * n, 2 * n + sample.length));
}

/**
 * D = c_skip x + c_out (out_u + w (out_c - out_u)) from a guided batch's float32 output [uncond, cond], or
 * c_skip x + c_out out unguided.
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
  sameLength('denoised', denoised, n);
  sameLength('the UNet output', out, guided ? 2 * n : n);
  reserve(3 * n);
  f64.set(x, 0);
  f32.set(out, 2 * n);
  kernels.combine(16 * n, 0, 8 * n, n, c.cSkip, c.cOut, scale, guided ? 1 : 0);
  denoised.set(f64.subarray(2 * n, 3 * n));
}
