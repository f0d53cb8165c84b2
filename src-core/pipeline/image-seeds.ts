// Which seeds a job's images use, as A1111 assigns them (modules/processing.py process_images_inner): image k of the
// job uses seed + k; with a variation strength over 0 every image keeps the seed and image k uses variation seed + k.
import type { GenerateRequest } from '../contract/generate.ts';
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
