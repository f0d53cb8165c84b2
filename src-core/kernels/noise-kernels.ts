// Parts of three noise sources, run in the kernels' module in an instance of its own (its own memory): the default
// source's xoshiro128** steps and 53-bit uniforms (noise/default-noise.ts), torch-cuda's Philox4x32-10 blocks
// (noise/torch-cuda.ts), and torch-cpu's mt19937 and float32 Box-Muller blocks (noise/torch-cpu.ts). Integer steps, exact
// conversions and float32 rounding per operation give the same values as the JavaScript they replaced, which took
// more time than the transforms that stay there (the default source's values are V8's Math.log, cos and sin, and
// torch-cuda's float32 emulation of the GPU's is cheap beside its Philox rounds).
import { kernelInstance, reserveBytes } from './instance.ts';

const kernels = kernelInstance();
let buffer = kernels.memory.buffer;

/** Room for `bytes` from offset 0; growing the memory replaces its buffer, and the views are made from it per call. */
function room(bytes: number): ArrayBuffer {
  if (reserveBytes(kernels, bytes)) buffer = kernels.memory.buffer;
  return buffer;
}

/**
 * `count` uniforms in (0, 1) from a xoshiro128** state (four 32-bit words), which is advanced by 2 * count draws.
 * The array returned is valid until the next call.
 */
export function xoshiroUniforms(state: Uint32Array, count: number): Float64Array {
  if (state.length !== 4) throw new RangeError(`a xoshiro128** state has 4 words, not ${state.length}`);
  const memory = room(16 + 8 * count);
  const words = new Uint32Array(memory, 0, 4);
  words.set(state);
  kernels.xoshiro_uniforms(0, 16, count);
  state.set(words);
  return new Float64Array(memory, 16, count);
}

/**
 * Philox4x32-10's first two output words for the counters (c0, c1, i, 0), i = 0 .. count - 1, with key (k0, k1): a
 * pair per i, as [a0, a1, a0, a1, ...]. All values are unsigned 32-bit. The array returned is valid until the next
 * call.
 */
export function philoxPairs(count: number, c0: number, c1: number, k0: number, k1: number): Uint32Array {
  const memory = room(8 * count);
  kernels.philox_pairs(0, count, c0, c1, k0, k1);
  return new Uint32Array(memory, 0, 2 * count);
}

/**
 * torch's CPU normal_fill over raw[at .. at + out.length], whole blocks of 16 uniform numerators (k: u = k / 2^24):
 * out[j] = r cos theta and out[j + 8] = r sin theta per block, as float32 values, in the order torch computes them.
 */
export function torchCpuNormals(raw: Int32Array, at: number, out: Float64Array): void {
  const count = out.length;
  if (count % 16 !== 0) throw new RangeError(`torch's normal blocks take whole blocks of 16 (got ${count} values)`);
  const memory = room(12 * count);
  new Int32Array(memory, 0, count).set(raw.subarray(at, at + count));
  kernels.torch_cpu_normals(0, 4 * count, count / 16);
  out.set(new Float64Array(memory, 4 * count, count));
}

/** Where the 624 mt19937 words sit while mt_fill24 runs; its outputs follow. */
const MT_OUTPUT = 2560;

/**
 * out = the next out.length mt19937 outputs of `state` (624 words, `next` the index of the next one) masked to their
 * low 24 bits; the state is advanced in place, and the new index returned.
 */
export function mtFill24(state: Int32Array, next: number, out: Int32Array): number {
  const memory = room(MT_OUTPUT + 4 * out.length);
  const words = new Int32Array(memory, 0, 624);
  words.set(state);
  const after = kernels.mt_fill24(0, next, MT_OUTPUT, out.length);
  state.set(words);
  out.set(new Int32Array(memory, MT_OUTPUT, out.length));
  return after;
}
