// A1111's variation seeds ("Variation seed", "Variation seed strength"; its subseed and subseed_strength): each image's
// first noise (the start latent, or what img2img and hires fix add to their source) is the seed's noise turned part of
// the way towards another seed's noise by A1111's slerp (modules/rng.py ImageRNG.first). Later draws (Euler a, Restart)
// continue the seed's own stream untouched, as A1111's next() does.
import { createNoiseStream, type NoiseStream } from './index.ts';

/** One batch's variation: each image's variation seed, the strength (over 0, at most 1) and one image's latent shape. */
export interface BatchVariation {
  seeds: number[];
  strength: number;
  /** [channels, height, width] of one image's latent: the slerp works per channel and column. */
  shape: readonly [number, number, number];
}

/** Above this mean cosine A1111 mixes linearly instead (its slerp's own threshold). */
const NEARLY_PARALLEL = 0.9995;

/**
 * A1111's slerp(val, low, high) on one image's [C, H, W] noise, as its formula has it: the norms run over dim 1 (H),
 * so every channel and column gets its own angle; when the mean cosine is over 0.9995 it returns
 * low * val + high * (1 - val) (the weights the other way round from the slerp, as A1111 has them).
 * `low` is the seed's noise, `high` the variation seed's; strength 1 gives `high` exactly (away from that fallback).
 */
export function slerpNoise(
  strength: number,
  low: Float64Array,
  high: Float64Array,
  shape: readonly [number, number, number],
): Float64Array {
  const [channels, height, width] = shape;
  const size = channels * height * width;
  if (low.length !== size || high.length !== size) {
    throw new RangeError(`variation noise: ${low.length} and ${high.length} values for a ${shape.join('x')} latent (${size})`);
  }
  const columns = channels * width;
  const cosines = new Float64Array(columns);
  let sum = 0;
  for (let c = 0; c < channels; c++) {
    for (let x = 0; x < width; x++) {
      let lowSquares = 0,
        highSquares = 0,
        products = 0;
      for (let y = 0, i = c * height * width + x; y < height; y++, i += width) {
        lowSquares += low[i] * low[i];
        highSquares += high[i] * high[i];
        products += low[i] * high[i];
      }
      const cosine = products / Math.sqrt(lowSquares) / Math.sqrt(highSquares);
      cosines[c * width + x] = cosine;
      sum += cosine;
    }
  }
  const out = new Float64Array(size);
  if (sum / columns > NEARLY_PARALLEL) {
    for (let i = 0; i < size; i++) out[i] = low[i] * strength + high[i] * (1 - strength);
    return out;
  }
  for (let c = 0; c < channels; c++) {
    for (let x = 0; x < width; x++) {
      const omega = Math.acos(cosines[c * width + x]);
      const so = Math.sin(omega);
      const lowWeight = Math.sin((1 - strength) * omega) / so,
        highWeight = Math.sin(strength * omega) / so;
      for (let y = 0, i = c * height * width + x; y < height; y++, i += width) out[i] = lowWeight * low[i] + highWeight * high[i];
    }
  }
  return out;
}

/** An image's stream whose first draw is varied towards the variation seed's noise; later draws are the seed's own. */
class VariedStartStream implements NoiseStream {
  private first = true;

  constructor(
    private readonly own: NoiseStream,
    private readonly variation: NoiseStream,
    private readonly strength: number,
    private readonly shape: readonly [number, number, number],
  ) {}

  randn(count: number): Float64Array {
    const drawn = this.own.randn(count);
    if (!this.first || count === 0) return drawn;
    this.first = false;
    return slerpNoise(this.strength, drawn, this.variation.randn(count), this.shape);
  }
}

/**
 * One stream per image of a batch (noise/index.ts batchNoise's input): the seed's stream, or with a variation one whose
 * first draw is slerped towards the variation seed's first draw. Bad seeds throw here, before anything is drawn.
 */
export function imageStreams(source: string, seeds: number[], variation?: BatchVariation): NoiseStream[] {
  if (variation && variation.seeds.length !== seeds.length) {
    throw new RangeError(`variation seeds: ${variation.seeds.length} for ${seeds.length} images`);
  }
  return seeds.map((seed, i) => {
    const own = createNoiseStream(source, seed);
    if (!variation) return own;
    return new VariedStartStream(own, createNoiseStream(source, variation.seeds[i]), variation.strength, variation.shape);
  });
}
