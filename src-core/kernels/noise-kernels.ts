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

/** Where the 624 mt19937 words sit while torch-cpu's kernels run; the uniform numerators follow, then the normals. */
const MT_NUMERATORS = 2560;

/**
 * torch's CPU normal_fill for a call of out.length >= 16 values, all in the kernels' module: the next out.length outputs
 * of the mt19937 `state` (624 words, `next` the index of the next one) as 24-bit uniform numerators, Box-Muller over
 * whole blocks of 16 (mt_fill24, torch_cpu_normals), and for a length that is not a multiple of 16, sixteen more
 * numerators into the last 16 slots, that block transformed again. The state is advanced in place; returns the new
 * index.
 */
export function torchCpuNormalFill(state: Int32Array, next: number, out: Float64Array): number {
  const n = out.length;
  if (n < 16) throw new RangeError(`torch's normal_fill takes 16 values or more (got ${n})`);
  const normals = MT_NUMERATORS + 8 * Math.ceil(n / 2); // after n int32 numerators, on a float64 boundary
  const memory = room(normals + 8 * n);
  const words = new Int32Array(memory, 0, 624);
  words.set(state);
  let after = kernels.mt_fill24(0, next, MT_NUMERATORS, n);
  kernels.torch_cpu_normals(MT_NUMERATORS, normals, n >> 4);
  if (n % 16 !== 0) {
    after = kernels.mt_fill24(0, after, MT_NUMERATORS + 4 * (n - 16), 16);
    kernels.torch_cpu_normals(MT_NUMERATORS + 4 * (n - 16), normals + 8 * (n - 16), 1);
  }
  state.set(words);
  out.set(new Float64Array(memory, normals, n));
  return after;
}
