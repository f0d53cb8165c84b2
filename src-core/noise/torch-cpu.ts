// torch.randn on torch's CPU generator, bit for bit in float32: what ComfyUI and A1111's "CPU" noise
// source draw. Written from torch's documented behaviour (CPUGeneratorImpl, mt19937, the CPU normal
// kernel); no code copied.
//
// What torch does for torch.randn(n, generator=torch.Generator().manual_seed(seed)), float32:
// - manual_seed(seed) takes a uint64 but seeds mt19937 with its low 32 bits only, and clears the
//   generator's cached normal sample.
// - n >= 16 (contiguous float): "normal_fill". Draw n uniforms u = (mt() & 0xffffff) / 2^24, then turn
//   every block of 16 into normals with Box-Muller pairing element j with j + 8:
//   r = sqrt(-2 log(1 - u[j])), theta = 2 pi u[j + 8], out[j] = r cos(theta), out[j + 8] = r sin(theta).
//   When n is not a multiple of 16, 16 *more* uniforms are drawn into the last 16 slots and that block
//   is transformed again (so n = 17 consumes 33 draws and out[1..16] come from draws 17..32).
//   On x86 torch runs this block transform with AVX2 in float32 using the avx_mathfun log/sincos
//   polynomials (compiled by GCC, which fuses most multiply-adds into FMAs). We emulate that
//   arithmetic exactly (Math.fround per operation, exact float32 FMA), which reproduces every listed
//   value of the reference vectors bit for bit.
// - n < 16: the scalar path, one normal at a time in float64: u1, u2 from random64() (two mt() words,
//   first = high half, 53 bits), r = sqrt(-2 log(1 - u2)), theta = 2 pi u1; returns r cos(theta) and
//   keeps r sin(theta) in the generator as the next normal (that cache survives later calls, also
//   calls of 16 or more, which neither use nor clear it). Each value is then rounded to float32.
import type { NoiseStream } from './types.ts';
import { checkCount, f, fma32, torchSeedWords, TWO_32, type TorchSeed } from './torch-common.ts';

export type { TorchSeed } from './torch-common.ts';

// ---------------------------------------------------------------------------------------------
// mt19937 (the standard 32-bit Mersenne Twister, seeded like std::mt19937(uint32)).

const N = 624;
const M = 397;
const MATRIX_A = 0x9908b0df;
const UPPER = 0x80000000;
const LOWER = 0x7fffffff;

class MersenneTwister {
  private readonly mt = new Int32Array(N);
  private next = N;

  constructor(seed32: number) {
    const mt = this.mt;
    mt[0] = seed32;
    for (let i = 1; i < N; i++) {
      const prev = mt[i - 1];
      mt[i] = Math.imul(1812433253, prev ^ (prev >>> 30)) + i;
    }
  }

  private twist(): void {
    const mt = this.mt;
    let k = 0;
    for (; k < N - M; k++) {
      const y = (mt[k] & UPPER) | (mt[k + 1] & LOWER);
      mt[k] = mt[k + M] ^ (y >>> 1) ^ (-(y & 1) & MATRIX_A);
    }
    for (; k < N - 1; k++) {
      const y = (mt[k] & UPPER) | (mt[k + 1] & LOWER);
      mt[k] = mt[k + M - N] ^ (y >>> 1) ^ (-(y & 1) & MATRIX_A);
    }
    const y = (mt[N - 1] & UPPER) | (mt[0] & LOWER);
    mt[N - 1] = mt[M - 1] ^ (y >>> 1) ^ (-(y & 1) & MATRIX_A);
    this.next = 0;
  }

  /** Next output as an unsigned 32-bit value. */
  nextUint32(): number {
    if (this.next >= N) this.twist();
    let y = this.mt[this.next++];
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }

  /** `count` outputs masked to their low 24 bits (torch's float uniform numerators), into out[start..]. */
  fill24(out: Int32Array, start: number, count: number): void {
    for (let i = start; i < start + count; i++) out[i] = this.nextUint32() & 0xffffff;
  }
}

// ---------------------------------------------------------------------------------------------
// float32 arithmetic constants.

// avx_mathfun's cephes-derived constants, as float32.
const [LOG_P0, LOG_P1, LOG_P2, LOG_P3, LOG_P4, LOG_P5, LOG_P6, LOG_P7, LOG_P8] = [
  7.0376836292e-2, -1.151461031e-1, 1.167699874e-1, -1.2420140846e-1, 1.4249322787e-1, -1.6668057665e-1, 2.0000714765e-1, -2.4999993993e-1,
  3.3333331174e-1,
].map(f);
const [LOG_Q1, LOG_Q2] = [-2.1219444e-4, 0.693359375].map(f);
// eslint-disable-next-line no-loss-of-precision -- Cephes' constant, written as torch's source writes it
const SQRT_HALF = f(0.707106781186547524);
const FOUR_OVER_PI = f(1.27323954473516);
// eslint-disable-next-line no-loss-of-precision -- Cephes' constants, written as torch's source writes them
const [DP1, DP2, DP3] = [-0.78515625, -2.4187564849853515625e-4, -3.77489497744594108e-8].map(f);
const [SIN_P0, SIN_P1, SIN_P2] = [-1.9515295891e-4, 8.3321608736e-3, -1.6666654611e-1].map(f);
const [COS_P0, COS_P1, COS_P2] = [2.443315711809948e-5, -1.388731625493765e-3, 4.166664568298827e-2].map(f);
const TWO_PI_F = f(2 * Math.PI);
const INV_2_24 = 1 / 16777216;

/**
 * log256_ps for u1 = m / 2^24 (1 <= m <= 2^24), the only arguments normal_fill gives it. The float's
 * exponent and mantissa come straight from m's bit length, no bit casts needed.
 */
function logAvx(m: number): number {
  const bits = 32 - Math.clz32(m); // u1 = x * 2^e with x = m / 2^bits in [0.5, 1)
  let e = bits - 24;
  let x = m / 2 ** bits;
  if (x < SQRT_HALF) {
    e -= 1;
    x = f(f(x - 1) + x);
  } else {
    x = f(x - 1);
  }
  const z = f(x * x);
  let y = fma32(LOG_P0, x, LOG_P1);
  y = fma32(y, x, LOG_P2);
  y = fma32(y, x, LOG_P3);
  y = fma32(y, x, LOG_P4);
  y = fma32(y, x, LOG_P5);
  y = fma32(y, x, LOG_P6);
  y = fma32(y, x, LOG_P7);
  y = fma32(y, x, LOG_P8);
  y = f(y * x);
  y = fma32(y, z, f(e * LOG_Q1)); // GCC fuses y*z into the add of e*q1
  y = f(y - z * 0.5); // z*0.5 is exact: fused or not, one rounding
  x = f(x + y);
  return f(x + e * LOG_Q2); // e*q2 is exact
}

let sinOut = 0;
let cosOut = 0;

/** sincos256_ps for 0 <= x < 2 pi; results in sinOut / cosOut. */
function sinCosAvx(x: number): void {
  const j = (Math.trunc(f(x * FOUR_OVER_PI)) + 1) & ~1;
  // Cody-Waite reduction by j * pi/4 in three parts (the first two products are exact).
  x = f(x + j * DP1);
  x = f(x + j * DP2);
  x = f(x + j * DP3);
  const z = f(x * x);
  let c = fma32(COS_P0, z, COS_P1);
  c = fma32(c, z, COS_P2);
  c = f(c * z);
  c = fma32(c, z, -z * 0.5);
  c = f(c + 1);
  let s = fma32(SIN_P0, z, SIN_P1);
  s = fma32(s, z, SIN_P2);
  s = f(s * z);
  s = fma32(s, x, x);
  let sn: number, cs: number;
  if ((j & 2) === 0) {
    sn = s;
    cs = c;
  } else {
    sn = c;
    cs = s;
  }
  sinOut = (j & 4) !== 0 ? -sn : sn;
  cosOut = (~(j - 2) & 4) !== 0 ? -cs : cs;
}

/**
 * Box-Muller over one block of 16 uniforms (24-bit numerators k: u = k / 2^24) at raw[at..at+15],
 * written to out[at..at+15], exactly as torch's AVX2 normal_fill_16 computes it in float32.
 */
function normalFill16(raw: Int32Array, out: Float64Array, at: number): void {
  for (let j = 0; j < 8; j++) {
    const radius = f(Math.sqrt(-2 * logAvx(16777216 - raw[at + j]))); // log(1 - u), 1 - u exact
    const theta = f(TWO_PI_F * (raw[at + j + 8] * INV_2_24));
    sinCosAvx(theta);
    out[at + j] = f(radius * cosOut);
    out[at + j + 8] = f(radius * sinOut);
  }
}

// ---------------------------------------------------------------------------------------------

/**
 * A stream of torch.randn values from one CPU torch.Generator: `randn(n)` returns what the next
 * torch.randn(n, generator=g) returns (float32 values held in a Float64Array).
 */
export class TorchCpuNoiseStream implements NoiseStream {
  private readonly engine: MersenneTwister;
  /** The generator's cached normal (float64) from the scalar path, if any. */
  private nextNormal: number | undefined;
  private raw = new Int32Array(0);

  constructor(seed: TorchSeed) {
    this.engine = new MersenneTwister(torchSeedWords(seed).lo);
  }

  randn(count: number): Float64Array {
    checkCount(count);
    const out = new Float64Array(count);
    if (count >= 16) this.vectorPath(out);
    else for (let i = 0; i < count; i++) out[i] = f(this.scalarNormal());
    return out;
  }

  private vectorPath(out: Float64Array): void {
    const n = out.length;
    const tail = n % 16 === 0 ? 0 : 16;
    if (this.raw.length < n + tail) this.raw = new Int32Array(n + tail);
    const raw = this.raw;
    this.engine.fill24(raw, 0, n);
    for (let i = 0; i + 16 <= n; i += 16) normalFill16(raw, out, i);
    if (tail) {
      // Sixteen fresh uniforms replace the last 16 slots, which are transformed again.
      this.engine.fill24(raw, n - 16, 16);
      normalFill16(raw, out, n - 16);
    }
  }

  /** One uniform in [0, 1) with 53 bits, from random64() = (first word << 32) | second word. */
  private uniform53(): number {
    const hi = this.engine.nextUint32() & 0x1fffff;
    const lo = this.engine.nextUint32();
    return (hi * TWO_32 + lo) / 9007199254740992;
  }

  private scalarNormal(): number {
    if (this.nextNormal !== undefined) {
      const cached = this.nextNormal;
      this.nextNormal = undefined;
      return cached;
    }
    const u1 = this.uniform53();
    const u2 = this.uniform53();
    const r = Math.sqrt(-2 * Math.log1p(-u2));
    const theta = 2 * Math.PI * u1;
    this.nextNormal = r * Math.sin(theta);
    return r * Math.cos(theta);
  }
}
