// A1111's "Eta noise seed delta" (ENSD, opts.eta_noise_seed_delta; NovelAI's images used 31337): once an image's first
// noise is drawn, its generator is replaced by a fresh one of seed + delta (modules/rng.py ImageRNG.first), so the
// noise samplers draw after the start (Euler a and the other ancestral samplers, LCM, Restart here) comes from that
// seed's stream. The first draw itself, and the Brownian trees of the SDE samplers (seeded with the seed), stay.
import { createNoiseStream, type NoiseStream } from './index.ts';

/** An image's stream with an ENSD: the first draw from `first`, every later one from the stream of seed + delta. */
export class SeedDeltaStream implements NoiseStream {
  private later: NoiseStream | undefined;

  constructor(
    private readonly first: NoiseStream,
    private readonly source: string,
    private readonly seed: number,
    private readonly delta: number,
  ) {}

  randn(count: number): Float64Array {
    if (this.later) return this.later.randn(count);
    const drawn = this.first.randn(count);
    if (count > 0) this.later = createNoiseStream(this.source, laterSeed(this.seed, this.delta));
    return drawn;
  }
}

/** seed + delta, as a bigint past 2^53 (the torch sources take seeds up to 2^64 - 1; the default source refuses it). */
export function laterSeed(seed: number, delta: number): number | bigint {
  const sum = seed + delta;
  return Number.isSafeInteger(sum) ? sum : BigInt(seed) + BigInt(delta);
}
