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
//   polynomials (compiled by GCC, which fuses most multiply-adds into FMAs). The kernels' module
//   emulates that arithmetic exactly (float32 rounding per operation, exact float32 FMA:
//   torch_cpu_normals in kernels/noise-kernels.wat), which reproduces every listed value of the
//   reference vectors bit for bit.
// - n < 16: the scalar path, one normal at a time in float64: u1, u2 from random64() (two mt() words,
//   first = high half, 53 bits), r = sqrt(-2 log(1 - u2)), theta = 2 pi u1; returns r cos(theta) and
//   keeps r sin(theta) in the generator as the next normal (that cache survives later calls, also
//   calls of 16 or more, which neither use nor clear it). Each value is then rounded to float32.
import type { NoiseStream } from './types.ts';
import { checkCount, f, torchSeedWords, TWO_32, type TorchSeed } from './torch-common.ts';
import { torchCpuNormalFill } from '../kernels/noise-kernels.ts';

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

  /** torch's normal_fill of out.length >= 16 values from the next outputs, in the kernels' module (the same words). */
  normalFill(out: Float64Array): void {
    this.next = torchCpuNormalFill(this.mt, this.next, out);
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

  constructor(seed: TorchSeed) {
    this.engine = new MersenneTwister(torchSeedWords(seed).lo);
  }

  randn(count: number): Float64Array {
    checkCount(count);
    const out = new Float64Array(count);
    if (count >= 16) this.engine.normalFill(out);
    else for (let i = 0; i < count; i++) out[i] = f(this.scalarNormal());
    return out;
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
