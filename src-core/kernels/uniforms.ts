// The default noise's generator steps (xoshiro128**, noise/default-noise.ts) and their 53-bit uniforms, run in the
// kernels' module: integer steps and an exact conversion, so the same values as in JavaScript, where they took more
// time than the Box-Muller transform's Math.log, cos and sin that stay there (their values are V8's own).
import { kernelInstance, reserveBytes } from './instance.ts';

const kernels = kernelInstance();
let words = new Uint32Array(kernels.memory.buffer, 0, 4);
let uniforms = new Float64Array(kernels.memory.buffer);

/**
 * `count` uniforms in (0, 1) from a xoshiro128** state (four 32-bit words), which is advanced by 2 * count draws.
 * The array returned is valid until the next call.
 */
export function xoshiroUniforms(state: Uint32Array, count: number): Float64Array {
  if (state.length !== 4) throw new RangeError(`a xoshiro128** state has 4 words, not ${state.length}`);
  if (reserveBytes(kernels, 16 + 8 * count)) {
    words = new Uint32Array(kernels.memory.buffer, 0, 4);
    uniforms = new Float64Array(kernels.memory.buffer);
  }
  words.set(state);
  kernels.xoshiro_uniforms(0, 16, count);
  state.set(words);
  return uniforms.subarray(2, 2 + count);
}
