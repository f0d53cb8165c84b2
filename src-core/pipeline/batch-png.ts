// A decoded batch's images as PNG files that carry their parameters. The pixels become bytes on the main
// thread; deflating runs in the thread pool (png/encode.ts), so generate() starts the next batch meanwhile.
import { encodePngRows } from '../png/encode.ts';
import { toPngRows } from '../image/pixels.ts';
import type { GeneratedImage } from './txt2img.ts';

export interface BatchImages {
  /** Index of the batch's first image in the job; image i has seed seeds[i]. */
  first: number;
  seeds: number[];
  width: number;
  height: number;
  /** The PNG parameters text of the image with this seed. */
  parameters: (seed: number) => string;
}

/**
 * The batch's PNGs, in order. `mainThreadMs` gets the time spent on the main thread before the deflates are
 * under way (pixels to bytes, scanlines, text chunks): the part that adds to the image even when they overlap.
 */
export function encodeBatch(decoded: Float32Array[], batch: BatchImages, mainThreadMs: (ms: number) => void): Promise<GeneratedImage[]> {
  const t0 = performance.now();
  const { first, seeds, width, height } = batch;
  const encoding = decoded.map(async (pixels, i): Promise<GeneratedImage> => {
    const parameters = batch.parameters(seeds[i]);
    const png = await encodePngRows(toPngRows(pixels, width, height), width, height, { parameters });
    return { index: first + i, seed: seeds[i], width, height, parameters, png };
  });
  mainThreadMs(performance.now() - t0);
  return Promise.all(encoding);
}
