// A1111's "Seed resize from" (seed_resize_from_w, seed_resize_from_h): an image's first noise is the seed's noise for
// another size, pasted centred into the seed's own noise at the image's size (modules/rng.py ImageRNG.first), so that a
// seed keeps much of its picture at a new size. This file holds the paste; variation.ts draws the noises.

/** One batch's seed resize: the latent size the seed's first noise is drawn at, and one image's latent shape. */
export interface SeedResize {
  /** [rows, columns] of the seed's first noise (A1111: the pixel size // 8; here // the model's VAE factor). */
  from: readonly [number, number];
  /** [channels, height, width] of one image's latent. */
  shape: readonly [number, number, number];
}

/** Python's // on whole numbers: it floors, also below 0 (A1111's margins are odd when the sizes differ by an odd count). */
const floorHalf = (n: number) => Math.floor(n / 2);

/**
 * A1111's paste of `noise` ([C, h, w]) into `into` ([C, H, W], changed in place and returned): centred, with
 * margins (H - h) // 2 and (W - w) // 2; a larger noise is cut to its middle. Where a larger noise is an odd count
 * larger, A1111's slices leave the last row or column of `into` as it was: so do these.
 */
export function pasteCentred(
  noise: Float64Array,
  from: readonly [number, number, number],
  into: Float64Array,
  shape: readonly [number, number, number],
): Float64Array {
  const [channels, rows, columns] = shape;
  const [fromChannels, fromRows, fromColumns] = from;
  if (fromChannels !== channels || noise.length !== channels * fromRows * fromColumns || into.length !== channels * rows * columns) {
    throw new RangeError(`seed resize: cannot paste ${noise.length} values (${from.join('x')}) into ${into.length} (${shape.join('x')})`);
  }
  let dx = floorHalf(columns - fromColumns),
    dy = floorHalf(rows - fromRows);
  const w = dx >= 0 ? fromColumns : fromColumns + 2 * dx,
    h = dy >= 0 ? fromRows : fromRows + 2 * dy;
  const tx = Math.max(dx, 0),
    ty = Math.max(dy, 0);
  dx = Math.max(-dx, 0);
  dy = Math.max(-dy, 0);
  for (let c = 0; c < channels; c++) {
    for (let y = 0; y < h; y++) {
      const source = (c * fromRows + dy + y) * fromColumns + dx,
        target = (c * rows + ty + y) * columns + tx;
      into.set(noise.subarray(source, source + w), target);
    }
  }
  return into;
}
