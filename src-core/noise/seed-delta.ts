// A1111's "Eta noise seed delta" (ENSD, opts.eta_noise_seed_delta; NovelAI's images used 31337): once an image's first
// noise is drawn, its generator is replaced by a fresh one of seed + delta (modules/rng.py ImageRNG.first), so the
// noise samplers draw after the start (Euler a and the other ancestral samplers, LCM, Restart here) comes from that
// seed's stream. The first draw itself, and the Brownian trees of the SDE samplers (seeded with the seed), stay.
import type { NoiseStream } from './index.ts';

/**
 * An image's stream with an ENSD: the first draw from `first`, every later one from `later`, a fresh stream of seed +
 * delta (untouched until then, so made up front: a bad seed is refused before anything is drawn).
 */
export class SeedDeltaStream implements NoiseStream {
  private firstDone = false;

  constructor(
    private readonly first: NoiseStream,
    private readonly later: NoiseStream,
  ) {}

  randn(count: number): Float64Array {
    if (this.firstDone) return this.later.randn(count);
    if (count > 0) this.firstDone = true;
    return this.first.randn(count);
  }
}

/** seed + delta, as a bigint past 2^53 (the torch sources take seeds up to 2^64 - 1; the default source refuses it). */
export function laterSeed(seed: number, delta: number): number | bigint {
  const sum = seed + delta;
  return Number.isSafeInteger(sum) ? sum : BigInt(seed) + BigInt(delta);
}
