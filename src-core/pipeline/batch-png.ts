// A decoded batch's images as PNG files that carry their parameters, encoded while generate() starts the next
// batch: in the engine's PNG thread, or with the deflate in libuv's pool where that is not running (png/encode-thread.ts).
import { encodeImagePng, encodeOnMainThread } from '../png/encode-thread.ts';
import type { GeneratedImage } from './txt2img.ts';

export interface BatchImages {
  /** Index of the batch's first image in the job; image i has seed seeds[i]. */
  first: number;
  seeds: number[];
  /** Image i's variation seed, where the job varies its noise. */
  variationSeeds?: number[];
  width: number;
  height: number;
  /** The PNG parameters text of the image with this seed (and variation seed). */
  parameters: (seed: number, variationSeed?: number) => string;
}

/**
 * The batch's PNGs, in order. `mainThreadMs` gets the time spent on the main thread before the encodings are under
 * way (the parameters text; the pixels handed to the PNG thread, or made rows where it is not running): the part
 * that adds to the image even when they overlap.
 */
export function encodeBatch(
  decoded: Float32Array[],
  batch: BatchImages,
  mainThreadMs: (ms: number) => void,
  last = false,
): Promise<GeneratedImage[]> {
  const t0 = performance.now();
  const { first, seeds, variationSeeds, width, height } = batch;
  const image = (i: number, parameters: string, png: Buffer): GeneratedImage => ({
    index: first + i,
    seed: seeds[i],
    ...(variationSeeds ? { variationSeed: variationSeeds[i] } : {}),
    width,
    height,
    parameters,
    png,
  });
  const encodeAlongside = async (i: number): Promise<GeneratedImage> => {
    const parameters = batch.parameters(seeds[i], variationSeeds?.[i]);
    return image(i, parameters, await encodeImagePng(decoded[i], width, height, { parameters }));
  };
  const encodeHere = async (i: number): Promise<GeneratedImage> => {
    const parameters = batch.parameters(seeds[i], variationSeeds?.[i]);
    return image(i, parameters, await encodeOnMainThread(decoded[i], width, height, { parameters }));
  };
  // The job's last batch has nothing left to overlap with: its first image is encoded from here (its rows made on
  // this thread, its deflate in pieces in libuv's pool), with no thread's round trip to wait for, once the others (a
  // batch size over 1) are on their way to be encoded alongside.
  const firstHere = last && decoded.length > 0;
  const others = decoded
    .map((_, i) => i)
    .slice(firstHere ? 1 : 0)
    .map(encodeAlongside);
  const encoding = firstHere ? [encodeHere(0), ...others] : others;
  mainThreadMs(performance.now() - t0);
  return Promise.all(encoding);
}
