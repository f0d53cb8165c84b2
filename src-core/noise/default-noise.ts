// The project's own noise source: xoshiro128** seeded through splitmix32, Box-Muller in float64.
// Fast, portable and identical on every platform; not bit-compatible with torch (see torch-*.ts).
import type { NoiseStream } from './types.ts';
import { xoshiroUniforms } from '../kernels/noise-kernels.ts';

function splitmix32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x9e3779b9) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

export class DefaultNoiseStream implements NoiseStream {
  private readonly s = new Uint32Array(4);
  private spare: number | undefined;

  constructor(seed: number) {
    if (!Number.isSafeInteger(seed) || seed < 0) throw new RangeError(`seed must be a whole number >= 0 (got ${seed})`);
    // Mix both 32-bit halves of the seed so seeds above 2^32 stay distinct.
    const lo = splitmix32(seed >>> 0),
      hi = splitmix32(Math.floor(seed / 2 ** 32) ^ 0x5bd1e995);
    for (let i = 0; i < 4; i++) this.s[i] = (lo() ^ hi()) >>> 0;
    if (this.s.every((v) => v === 0)) this.s[0] = 1;
  }

  randn(count: number): Float64Array {
    const out = new Float64Array(count);
    let i = 0;
    if (count > 0 && this.spare !== undefined) {
      out[i++] = this.spare;
      this.spare = undefined;
    }
    // Box-Muller on pairs of uniforms (radius, angle), drawn by the kernels; an odd count keeps its last pair's
    // second value for the next call, as drawing one value at a time does.
    const pairs = Math.ceil((count - i) / 2);
    const u = xoshiroUniforms(this.s, 2 * pairs);
    for (let p = 0; p < pairs; p++, i += 2) {
      const r = Math.sqrt(-2 * Math.log(u[2 * p]));
      const theta = 2 * Math.PI * u[2 * p + 1];
      out[i] = r * Math.cos(theta);
      if (i + 1 < count) out[i + 1] = r * Math.sin(theta);
      else this.spare = r * Math.sin(theta);
    }
    return out;
  }
}
