// Hires fix's "resize to" (A1111's hr_resize_x / hr_resize_y) instead of an upscale factor. Written from A1111's
// modules/processing.py (commit 9a224a5c), StableDiffusionProcessingTxt2Img.calculate_target_resolution and
// sample_hr_pass: with one side 0 the other is computed to keep the first pass's aspect; with both set, the first
// pass is upscaled to cover the target (its aspect kept) and the latents are then cropped around the centre by
// truncate = (overshoot // 8) cells, so the image can end a few pixels off the target, as A1111's does. Pure
// arithmetic on sizes, in the contract: the form shows the target size from it, the engine plans with it.
import { LIMITS, RequestError } from './generate.ts';

type Size = { width: number; height: number };

export interface HiresGeometry {
  /** The size the first pass is upscaled to (a multiple of the VAE factor: its latent cells times the factor). */
  upscale: Size;
  /** Latent cells cut from the upscaled latents' top and left (A1111's truncate // 2), and their bottom and right. */
  crop: { top: number; left: number; bottom: number; right: number };
  /** The second pass's (and the images') size. */
  output: Size;
}

/** A1111's hr_upscale_to_x/y and truncate_x/y for a resize with at least one side over 0 (Python's // on sizes). */
export function a1111ResizeTarget(first: Size, resize: Size, vaeFactor: number): { to: Size; truncate: { x: number; y: number } } {
  const { width: w, height: h } = first;
  const { width: rx, height: ry } = resize;
  if (ry === 0) return { to: { width: rx, height: Math.floor((rx * h) / w) }, truncate: { x: 0, y: 0 } };
  if (rx === 0) return { to: { width: Math.floor((ry * w) / h), height: ry }, truncate: { x: 0, y: 0 } };
  // w / h < rx / ry, compared exactly: the target is relatively wider, so the width is met and the height cropped.
  const to = w * ry < rx * h ? { width: rx, height: Math.floor((rx * h) / w) } : { width: Math.floor((ry * w) / h), height: ry };
  return { to, truncate: { x: Math.floor((to.width - rx) / vaeFactor), y: Math.floor((to.height - ry) / vaeFactor) } };
}

/**
 * Where hires fix takes the first pass: `scale` times the size (int(size * scale)), or to `resize`; down to a multiple of
 * the VAE factor (A1111 interpolates to size // 8 cells). `encodesUpscale`: the upscaled image itself goes through the
 * VAE encoder (the Lanczos upscaler), so it too must stay within the side limit.
 */
export function hiresGeometry(
  first: Size,
  target: { scale?: number; resize?: Size },
  vaeFactor: number,
  encodesUpscale = false,
): HiresGeometry {
  const cells = (v: number) => Math.floor(v / vaeFactor);
  let to: Size,
    truncate = { x: 0, y: 0 };
  if (target.resize) ({ to, truncate } = a1111ResizeTarget(first, target.resize, vaeFactor));
  else to = { width: Math.floor(first.width * target.scale!), height: Math.floor(first.height * target.scale!) };
  const upscale = { width: cells(to.width) * vaeFactor, height: cells(to.height) * vaeFactor };
  const crop = {
    top: Math.floor(truncate.y / 2),
    bottom: Math.floor((truncate.y + 1) / 2),
    left: Math.floor(truncate.x / 2),
    right: Math.floor((truncate.x + 1) / 2),
  };
  const output = { width: upscale.width - truncate.x * vaeFactor, height: upscale.height - truncate.y * vaeFactor };
  const how = target.resize ? `resizing to ${target.resize.width}x${target.resize.height}` : 'hires fix';
  if (output.width < vaeFactor || output.height < vaeFactor)
    throw new RequestError(`${how} would make ${output.width}x${output.height} images: choose a larger size`);
  if (output.width > LIMITS.imageSide || output.height > LIMITS.imageSide) {
    throw new RequestError(
      `${how} would make ${output.width}x${output.height} images; at most ${LIMITS.imageSide} pixels a side: lower the scale or the size`,
    );
  }
  if (encodesUpscale && (upscale.width > LIMITS.imageSide || upscale.height > LIMITS.imageSide)) {
    throw new RequestError(
      `${how} upscales to ${upscale.width}x${upscale.height} before cropping, which the Lanczos upscaler encodes whole; ` +
        `at most ${LIMITS.imageSide} pixels a side: choose a latent upscaler or a size closer to the first pass's aspect`,
    );
  }
  return { upscale, crop, output };
}
