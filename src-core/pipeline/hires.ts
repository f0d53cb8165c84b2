// Hires fix, as A1111's txt2img does it: the first pass at the chosen size; its latents upscaled (A1111's
// "Latent" upscalers: torch's interpolation of the latents, latent-upscale.ts) or its decoded image upscaled
// with Lanczos and encoded again ("Lanczos" and "None"); then a second pass, img2img at the larger size with its own
// steps (always exactly that many, as A1111 runs them), denoising strength and optional sampler. The second
// pass's noise comes from a fresh stream of the image's seed, as A1111 makes a new ImageRNG for it.
import { DEFAULT_HIRES_STRENGTH, HIRES_UPSCALER_LABELS, type HiresUpscaler } from '../contract/images.ts';
import type { GenerateRequest } from '../contract/generate.ts';
import { hiresGeometry } from '../contract/hires-geometry.ts';
import type { StableDiffusionModel } from '../model/model.ts';
import { lanczosResize } from '../image/resize.ts';
import type { RgbImage } from '../image/decode.ts';
import { decodeLatents, type Timings } from './components.ts';
import { toRgba } from '../image/pixels.ts';
import { encodeImage } from './img2img-encode.ts';
import { latentModeOf } from './latent-upscale.ts';

export interface HiresSettings {
  /** The upscale factor; unused (perhaps absent) when `resize` is set, which wins as in A1111. */
  scale?: number;
  /** A1111's "Hires resize" target, where a side is over 0 (0 on one side keeps the aspect). */
  resize?: { width: number; height: number };
  /** The second pass's steps (the first pass's when 0 or absent). */
  steps: number;
  strength: number;
  upscaler: HiresUpscaler;
  sampler: GenerateRequest['sampler'];
  /** The second pass's guidance scale (the first pass's unless set). */
  cfgScale: number;
  /** The second pass's schedule (the first pass's unless set; DDIM keeps its own grid whatever it says). */
  schedule: GenerateRequest['schedule'];
}

export function hiresSettings(request: GenerateRequest): HiresSettings | undefined {
  const hires = request.hires;
  if (!hires) return undefined;
  const resize = hires.resizeWidth || hires.resizeHeight ? { width: hires.resizeWidth ?? 0, height: hires.resizeHeight ?? 0 } : undefined;
  return {
    ...(resize ? { resize } : { scale: hires.scale }),
    steps: hires.steps || request.steps,
    strength: hires.strength ?? DEFAULT_HIRES_STRENGTH,
    upscaler: hires.upscaler ?? 'latent',
    sampler: hires.sampler ?? request.sampler,
    cfgScale: hires.cfgScale ?? request.cfgScale,
    schedule: hires.schedule ?? request.schedule,
  };
}

/** Where the second pass takes the first (hires-size.ts): its upscale, crop and output sizes. */
export const hiresGeometryOf = (model: StableDiffusionModel, size: { width: number; height: number }, hires: HiresSettings) =>
  hiresGeometry(size, hires, model.info.vaeFactor, latentModeOf(hires.upscaler) === undefined);

/** The infotext value A1111 writes as "Hires upscaler". */
export const hiresUpscalerLabel = (upscaler: HiresUpscaler) => HIRES_UPSCALER_LABELS[upscaler];

/** [batch, C, h, w] latents to [batch, C, H, W] with one of A1111's latent upscale modes (latent-upscale.ts). */
export { interpolateLatents as upscaleLatents } from './latent-upscale.ts';

/** A decoded [3, H, W] image in [-1, 1] as the 8-bit RGB a PNG of it holds. */
export function decodedToRgb(pixels: Float32Array, width: number, height: number): RgbImage {
  const rgba = toRgba(pixels, width, height),
    data = new Uint8Array(width * height * 3);
  for (let p = 0; p < width * height; p++) data.set(rgba.subarray(p * 4, p * 4 + 3), p * 3);
  return { width, height, data };
}

/**
 * Pixel-space upscale: each first-pass image decoded to 8-bit RGB (as its PNG would hold it; A1111 truncates
 * where this rounds), resized with Lanczos, and encoded again: the sampler-space latents at the new size.
 */
export async function upscaleThroughPixels(
  model: StableDiffusionModel,
  latents: Float64Array,
  batch: number,
  from: { h: number; w: number },
  to: { width: number; height: number },
  timings: Timings,
): Promise<Float64Array> {
  const { vaeFactor, latentChannels } = model.info;
  const decoded = await decodeLatents(model, latents, batch, from.h, from.w, timings);
  const perImage = latentChannels * (to.width / vaeFactor) * (to.height / vaeFactor);
  const out = new Float64Array(batch * perImage);
  for (let i = 0; i < batch; i++) {
    const image = decodedToRgb(decoded[i], from.w * vaeFactor, from.h * vaeFactor);
    out.set(await encodeImage(model, lanczosResize(image, to.width, to.height), timings), i * perImage);
  }
  return out;
}
