// A1111's variation seeds ("Variation seed", "Variation seed strength"; its subseed and subseed_strength): each image's
// first noise (the start latent, or what img2img and hires fix add to their source) is the seed's noise turned part of
// the way towards another seed's noise by A1111's slerp (modules/rng.py ImageRNG.first). Later draws (Euler a, Restart)
// continue the seed's own stream untouched, as A1111's next() does (or seed + ENSD's: seed-delta.ts). With "Seed resize
// from" (seed-resize.ts) both first noises are drawn at the resize's size from fresh streams of their seeds, slerped
// there, and pasted centred into the seed's own first draw, as ImageRNG.first does.
import { createNoiseStream, type NoiseStream } from './index.ts';
import { laterSeed, SeedDeltaStream } from './seed-delta.ts';
import { pasteCentred, type SeedResize } from './seed-resize.ts';

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

/** What an image's first draw becomes: varied towards another seed's noise, drawn at another size, or both. */
interface FirstDraw {
  variation?: { stream: NoiseStream; strength: number; shape: readonly [number, number, number] };
  /** A fresh stream of the image's seed, for its noise at the resize's size. */
  resize?: { stream: NoiseStream; from: readonly [number, number]; shape: readonly [number, number, number] };
}

/** An image's stream whose first draw is A1111's ImageRNG.first(); later draws are the seed's own. */
class FirstDrawStream implements NoiseStream {
  private first = true;

  constructor(
    private readonly own: NoiseStream,
    private readonly change: FirstDraw,
  ) {}

  randn(count: number): Float64Array {
    // The seed's own stream makes the first draw at the image's size in every case (A1111's generator does).
    const drawn = this.own.randn(count);
    if (!this.first || count === 0) return drawn;
    this.first = false;
    const { variation, resize } = this.change;
    if (!resize) return variation ? slerpNoise(variation.strength, drawn, variation.stream.randn(count), variation.shape) : drawn;
    const noiseShape = [resize.shape[0], ...resize.from] as const;
    const cells = noiseShape[0] * noiseShape[1] * noiseShape[2];
    let noise = resize.stream.randn(cells);
    if (variation) noise = slerpNoise(variation.strength, noise, variation.stream.randn(cells), noiseShape);
    return pasteCentred(noise, noiseShape, drawn, resize.shape);
  }
}

/** A seed resize that changes something: A1111 draws plainly where the resize's size is the image's own. */
function effectiveResize(resize: SeedResize | undefined, variation: BatchVariation | undefined): SeedResize | undefined {
  if (!resize) return undefined;
  const [, rows, columns] = resize.shape;
  if (variation && variation.shape.join('x') !== resize.shape.join('x')) {
    throw new RangeError(`seed resize: a ${resize.shape.join('x')} latent, but the variation's is ${variation.shape.join('x')}`);
  }
  if (!resize.from.every((side) => Number.isInteger(side) && side > 0)) {
    throw new RangeError(`seed resize: ${resize.from.join('x')} latent cells; each side must be a whole number over 0`);
  }
  return resize.from[0] === rows && resize.from[1] === columns ? undefined : resize;
}

/** What A1111's ImageRNG changes about a batch's streams: the first draws (variation, seed resize), the later (ENSD). */
export interface StreamChanges {
  variation?: BatchVariation;
  resize?: SeedResize;
  /** Eta noise seed delta: later draws from seed + delta's stream (seed-delta.ts); 0 or absent: off. */
  seedDelta?: number;
}

/**
 * One stream per image of a batch (noise/index.ts batchNoise's input): the seed's stream, or with a variation or a
 * seed resize one whose first draw is ImageRNG.first()'s, and with an ENSD later draws from seed + delta's stream. Bad
 * seeds throw here, before anything is drawn.
 */
export function imageStreams(source: string, seeds: number[], changes: StreamChanges = {}): NoiseStream[] {
  const { variation, seedDelta } = changes;
  if (variation && variation.seeds.length !== seeds.length) {
    throw new RangeError(`variation seeds: ${variation.seeds.length} for ${seeds.length} images`);
  }
  if (seedDelta !== undefined && !(Number.isSafeInteger(seedDelta) && seedDelta >= 0)) {
    throw new RangeError(`eta noise seed delta must be a whole number >= 0 (got ${seedDelta})`);
  }
  const resize = effectiveResize(changes.resize, variation);
  return seeds.map((seed, i) => {
    const stream = firstDrawStream(source, seed, i, variation, resize);
    return seedDelta ? new SeedDeltaStream(stream, createNoiseStream(source, laterSeed(seed, seedDelta))) : stream;
  });
}

function firstDrawStream(source: string, seed: number, i: number, variation?: BatchVariation, resize?: SeedResize): NoiseStream {
  const own = createNoiseStream(source, seed);
  if (!variation && !resize) return own;
  return new FirstDrawStream(own, {
    variation: variation && {
      stream: createNoiseStream(source, variation.seeds[i]),
      strength: variation.strength,
      shape: variation.shape,
    },
    resize: resize && { stream: createNoiseStream(source, seed), from: resize.from, shape: resize.shape },
  });
}
