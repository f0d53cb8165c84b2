// torch.randn on torch's CUDA generator, reproduced on the CPU: A1111's default "GPU" noise source
// (and its "NV" source, a numpy re-implementation of the same thing). Written from the documented
// behaviour of torch's CUDA normal kernel, cuRAND's Philox4x32-10 and A1111's rng_philox.py; no code
// copied.
//
// What one torch.randn(n, device='cuda', generator=g) call computes (float32):
// - the generator holds seed (uint64) and a philox offset; each call reserves an offset increment and
//   its threads call curand_init(seed, subsequence = thread index, offset), i.e. Philox4x32-10 with
//   key = (seed low word, seed high word) and counter = (offset/4 low, offset/4 high, index low,
//   index high).
// - each thread takes one curand_normal4: Box-Muller on the first two 32-bit outputs (x, y):
//   u = x * 2^-32 + 2^-33, v = y * 2pi 2^-32 + pi 2^-32 (float32 constants, fused multiply-add),
//   s = sqrtf(-2 logf(u)), element = s * __sinf(v). Element i of the tensor is thread i's first
//   value as long as the tensor has no more elements than the kernel launches threads (the grid is
//   capped at SMs * (max threads per SM / 256) blocks of 256: 270,336 threads on an H100 SXM).
// - the offset then grows by 4 (one counter step) per call for such tensors, so call k of a
//   generator uses counter word 0 = k.
//
// Two places where this is not plain arithmetic:
// - __sinf is the GPU's hardware approximation (MUFU.SIN): the argument is first scaled to turns,
//   v * (1/2pi) rounded toward zero to float32; we reproduce that step exactly. The unit's own error
//   is not public; measured on the H100 reference vectors it behaves like a small phase offset per
//   quarter turn (in units of 2^-24 turn: -0.19, +0.60, -0.03, +0.54, fitted on the shared vectors;
//   fitting on half the cases and checking the other half keeps the worst error at 0.30 of the 1e-6
//   tolerance, against 0.66 without it). We apply those offsets. The result matches torch on the GPU
//   to within 3e-7 on the reference values, not bit for bit (logf and __sinf are not correctly
//   rounded on the GPU). A1111's NV source does the same Box-Muller in float64 and is up to ~1.4e-6
//   off the same values.
// - continuation, where we follow A1111's NV source: every randn call advances the counter by one
//   step whatever its size, and element i always uses subsequence i and the first normal of its
//   curand_normal4. torch on a real GPU differs only for tensors larger than the launched thread
//   count (then threads loop and hand out the other three normals and the offset grows by more),
//   which depends on the GPU model; A1111's NV ignores that and so do we.
// A zero-element call draws nothing and does not advance the stream (torch launches no kernel).
import { checkCount, f, fma32, torchSeedWords, TWO_32, type TorchSeed } from './torch-common.ts';
import type { NoiseStream } from './types.ts';
import { philoxPairs } from '../kernels/noise-kernels.ts';

const INV_2_32 = 1 / TWO_32;
const INV_2_16 = 1 / 65536;

const PHILOX_M0 = 0xd2511f53;
const PHILOX_M1 = 0xcd9e8d57;
const PHILOX_W0 = 0x9e3779b9;
const PHILOX_W1 = 0xbb67ae85;

/** High 32 bits of the 64-bit product a * b (a, b unsigned 32-bit), exactly, in float64 steps. */
function mulHi(a: number, b: number): number {
  const x = (a >>> 16) * b; // < 2^48, exact
  const y = (a & 0xffff) * b; // < 2^48, exact
  const q = Math.floor(x * INV_2_16);
  const r = x - q * 65536;
  return q + Math.floor((r * 65536 + y) * INV_2_32);
}

/**
 * Philox4x32-10: the four output words for counter (c0..c3) and key (k0, k1), all unsigned 32-bit.
 * Exported for known-answer tests.
 */
export function philox4x32(c0: number, c1: number, c2: number, c3: number, k0: number, k1: number): [number, number, number, number] {
  for (let round = 0; round < 10; round++) {
    const hi0 = mulHi(c0 >>> 0, PHILOX_M0);
    const lo0 = Math.imul(c0, PHILOX_M0);
    const hi1 = mulHi(c2 >>> 0, PHILOX_M1);
    const lo1 = Math.imul(c2, PHILOX_M1);
    c0 = hi1 ^ c1 ^ k0;
    c1 = lo1;
    c2 = hi0 ^ c3 ^ k1;
    c3 = lo0;
    k0 = (k0 + PHILOX_W0) | 0;
    k1 = (k1 + PHILOX_W1) | 0;
  }
  return [c0 >>> 0, c1 >>> 0, c2 >>> 0, c3 >>> 0];
}

// cuRAND's float constants: CURAND_2POW32_INV and CURAND_2POW32_INV_2PI.
const U_SCALE = f(2.3283064e-10);
const V_SCALE = f(U_SCALE * f(6.2831855));
const U_HALF = U_SCALE / 2;
const V_HALF = V_SCALE / 2;
const INV_2PI_F = f(1 / (2 * Math.PI));
const TWO_PI = 2 * Math.PI;
const TURN_UNIT = 2 ** -24;
/** Measured phase offsets of the H100's __sinf per quarter turn, in 2^-24 turn (see the header). */
const SIN_PHASE_OFFSET = [-0.19 * TURN_UNIT, 0.6 * TURN_UNIT, -0.03 * TURN_UNIT, 0.54 * TURN_UNIT];

const scratchF32 = new Float32Array(1);
const scratchI32 = new Int32Array(scratchF32.buffer);

/** The tensor element from one counter block's first two outputs: s * __sinf(v), as on the GPU. */
function boxMullerSin(x: number, y: number): number {
  // The word is converted to float32 first; nvcc fuses the multiply and the add.
  const u = fma32(f(x), U_SCALE, U_HALF);
  const v = fma32(f(y), V_SCALE, V_HALF);
  const s = f(Math.sqrt(-2 * f(Math.log(u))));
  // __sinf: turns = v / 2pi rounded toward zero to float32, then the hardware sine.
  const p = v * INV_2PI_F; // exact in float64
  let t = f(p);
  if (t > p) {
    scratchF32[0] = t;
    scratchI32[0] -= 1; // t > 0: one float32 step toward zero
    t = scratchF32[0];
  }
  const sine = f(Math.sin(TWO_PI * (t + SIN_PHASE_OFFSET[Math.floor(t * 4) & 3])));
  return f(s * sine);
}

/**
 * A stream of torch.randn values from one CUDA torch.Generator (computed on the CPU): `randn(n)`
 * returns what the next torch.randn(n, device='cuda', generator=g) returns, as A1111's NV source
 * continues it (see the header).
 */
export class TorchCudaNoiseStream implements NoiseStream {
  private readonly k0: number;
  private readonly k1: number;
  /** Counter word 0/1 of the next call (A1111's `offset`; torch's philox offset / 4). */
  private call = 0;

  constructor(seed: TorchSeed) {
    const { lo, hi } = torchSeedWords(seed);
    this.k0 = lo;
    this.k1 = hi;
  }

  randn(count: number): Float64Array {
    checkCount(count);
    if (count > TWO_32) throw new RangeError(`count must be at most 2^32 (the counter's index word); got ${count}`);
    const out = new Float64Array(count);
    if (count === 0) return out;
    const c0 = this.call % TWO_32;
    const c1 = Math.floor(this.call / TWO_32);
    this.call++;
    // Each element's Philox block runs in the kernels (the same words as philox4x32 gives), its transform here.
    const words = philoxPairs(count, c0, c1, this.k0, this.k1);
    for (let i = 0; i < count; i++) out[i] = boxMullerSin(words[2 * i], words[2 * i + 1]);
    return out;
  }
}
