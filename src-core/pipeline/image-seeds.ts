// Which seeds a job's images use, as A1111 assigns them (modules/processing.py process_images_inner): image k of the
// job uses seed + k; with a variation strength over 0 every image keeps the seed and image k uses variation seed + k.
import { RequestError, type GenerateRequest } from '../contract/generate.ts';
import type { SeedResize } from '../noise/seed-resize.ts';
import type { BatchVariation } from '../noise/variation.ts';

export interface BatchSeeds {
  seeds: number[];
  /** Each image's variation seed, when the request varies its noise (variationStrength over 0). */
  variationSeeds?: number[];
}

/** The seeds of the batch whose first image is image `first` of the job. */
export function batchSeeds(request: GenerateRequest, first: number): BatchSeeds {
  const k = (i: number) => first + i;
  const length = request.batchSize;
  if (!request.variationStrength || request.variationSeed === undefined) {
    return { seeds: Array.from({ length }, (_, i) => request.seed + k(i)) };
  }
  const variationSeed = request.variationSeed;
  return {
    seeds: Array.from({ length }, () => request.seed),
    variationSeeds: Array.from({ length }, (_, i) => variationSeed + k(i)),
  };
}

/** The noise variation of one pass for a batch (noise/variation.ts), or undefined when the request has none. */
export function batchVariation(
  request: GenerateRequest,
  variationSeeds: number[] | undefined,
  shape: readonly [number, number, number],
): BatchVariation | undefined {
  if (!variationSeeds || !request.variationStrength) return undefined;
  return { seeds: variationSeeds, strength: request.variationStrength, shape };
}

/** The request's "Seed resize from" size in pixels, or undefined when it is off (absent, or a side of 0, as A1111). */
export function seedResizeOf(request: Pick<GenerateRequest, 'seedResizeFromWidth' | 'seedResizeFromHeight'>) {
  const width = request.seedResizeFromWidth ?? 0,
    height = request.seedResizeFromHeight ?? 0;
  return width > 0 && height > 0 ? { width, height } : undefined;
}

/**
 * The seed resize of one pass for a batch (noise/seed-resize.ts), or undefined when the request has none. A1111 draws
 * the noise at (h // 8, w // 8): 8 is its VAE factor, so here it is the model's own (vaeFactor).
 */
export function batchSeedResize(
  request: GenerateRequest,
  vaeFactor: number,
  shape: readonly [number, number, number],
): SeedResize | undefined {
  const size = seedResizeOf(request);
  if (!size) return undefined;
  const from = [Math.floor(size.height / vaeFactor), Math.floor(size.width / vaeFactor)] as const;
  if (from[0] < 1 || from[1] < 1) {
    throw new RequestError(
      `seed resize from ${size.width}x${size.height} is smaller than one latent cell of this model (${vaeFactor} pixels a side)`,
    );
  }
  return { from, shape };
}
