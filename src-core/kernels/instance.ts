// The kernels' module (latent-kernels.wat, half-kernels.wat and noise-kernels.wat), compiled once, and its instances:
// each has its own memory, so the latent loops' slots (latent-kernels.ts), the half conversions' chunks
// (half-kernels.ts) and the noise sources' draws (noise-kernels.ts) never share a buffer or its growth.
import { KERNELS_WASM } from './kernels-wasm.ts';

interface WasmConstructors {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object) => { exports: object };
}

// Offsets are bytes; `bytes` is one float64 array's length in bytes, padded to whole pairs.
export interface KernelExports {
  memory: { buffer: ArrayBuffer; grow(pages: number): number };
  euler_step(x: number, d: number, bytes: number, sigma: number, dt: number): void;
  all_finite(a: number, bytes: number): number;
  scale_input(sample: number, x: number, bytes: number, cIn: number): void;
  scale_input_half(sample: number, x: number, bytes: number, cIn: number): void;
  combine(d: number, x: number, u: number, c: number, bytes: number, cSkip: number, cOut: number, w: number, guided: number): number;
  combine_half(d: number, x: number, u: number, c: number, bytes: number, cSkip: number, cOut: number, w: number, guided: number): number;
  heun_predict(slope: number, xe: number, x: number, den: number, bytes: number, sigma: number, dt: number): void;
  heun_correct(x: number, xe: number, den: number, slope: number, bytes: number, sigmaNext: number, halfDt: number): void;
  axpy(out: number, a: number, b: number, bytes: number, scale: number): void;
  dpmpp_2m(x: number, den: number, prev: number, bytes: number, ratio: number, weight: number, a: number, b: number, second: number): void;
  preview_rgba(out: number, latent: number, k: number, channels: number, planeBytes: number): void;
  xoshiro_uniforms(state: number, out: number, count: number): void;
  philox_pairs(out: number, count: number, c0: number, c1: number, k0: number, k1: number): void;
  to_half(out: number, values: number, count: number): void;
  torch_cpu_normals(raw: number, out: number, blocks: number): void;
  mt_fill24(state: number, next: number, out: number, count: number): number;
  from_half(out: number, bits: number, count: number): void;
}

// TypeScript declares WebAssembly in its DOM library only; these are the two constructors used here.
const { Module, Instance } = (globalThis as unknown as { WebAssembly: WasmConstructors }).WebAssembly;
const compiled = new Module(Buffer.from(KERNELS_WASM, 'base64'));

export function kernelInstance(): KernelExports {
  return new Instance(compiled).exports as unknown as KernelExports;
}

/** Grows an instance's memory to at least `bytes`; true when it grew (its buffer is then a new one). */
export function reserveBytes(kernels: KernelExports, bytes: number): boolean {
  const missing = bytes - kernels.memory.buffer.byteLength;
  if (missing <= 0) return false;
  kernels.memory.grow(Math.ceil(missing / 65536));
  return true;
}
