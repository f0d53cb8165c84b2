// Hires fix, as A1111's txt2img does it: the first pass at the chosen size; its latents upscaled (A1111's
// "Latent" upscalers: torch's bilinear or nearest-exact interpolation of the latents) or its decoded image
// upscaled with Lanczos and encoded again; then a second pass, img2img at the larger size with its own
// steps (always exactly that many, as A1111 runs them), denoising strength and optional sampler. The second
// pass's noise comes from a fresh stream of the image's seed, as A1111 makes a new ImageRNG for it.
import { DEFAULT_HIRES_STRENGTH, HIRES_UPSCALER_LABELS, type HiresUpscaler } from '../contract/images.ts';
import type { GenerateRequest } from '../contract/generate.ts';
import { hiresGeometry } from './hires-size.ts';
import type { StableDiffusionModel } from '../model/model.ts';
import { lanczosResize } from '../image/resize.ts';
import type { RgbImage } from '../image/decode.ts';
import { decodeLatents, type Timings } from './components.ts';
import { toRgba } from '../image/pixels.ts';
import { encodeImage } from './img2img-encode.ts';

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
  };
}

/** Where the second pass takes the first (hires-size.ts): its upscale, crop and output sizes. */
export const hiresGeometryOf = (model: StableDiffusionModel, size: { width: number; height: number }, hires: HiresSettings) =>
  hiresGeometry(size, hires, model.info.vaeFactor, hires.upscaler === 'lanczos');

/** The infotext value A1111 writes as "Hires upscaler". */
export const hiresUpscalerLabel = (upscaler: HiresUpscaler) => HIRES_UPSCALER_LABELS[upscaler];

/** Source index and weight pairs along one axis, as torch.nn.functional.interpolate computes them (align_corners=False). */
function axisTaps(inSize: number, outSize: number, mode: 'bilinear' | 'nearest-exact'): Array<[number, number, number]> {
  const scale = inSize / outSize;
  return Array.from({ length: outSize }, (_, o) => {
    if (mode === 'nearest-exact') {
      const i = Math.min(Math.floor((o + 0.5) * scale), inSize - 1);
      return [i, i, 0];
    }
    const src = Math.max((o + 0.5) * scale - 0.5, 0);
    const i0 = Math.floor(src),
      i1 = i0 < inSize - 1 ? i0 + 1 : i0;
    return [i0, i1, src - i0];
  });
}

/** [batch, C, h, w] latents to [batch, C, H, W]: bilinear (A1111's "Latent") or nearest-exact. */
export function upscaleLatents(
  latents: Float64Array,
  shape: { batch: number; channels: number; h: number; w: number },
  to: { h: number; w: number },
  mode: 'bilinear' | 'nearest-exact',
): Float64Array {
  const { batch, channels, h, w } = shape;
  const rows = axisTaps(h, to.h, mode),
    cols = axisTaps(w, to.w, mode);
  const out = new Float64Array(batch * channels * to.h * to.w);
  for (let plane = 0; plane < batch * channels; plane++) {
    const src = plane * h * w,
      dst = plane * to.h * to.w;
    for (let y = 0; y < to.h; y++) {
      const [y0, y1, ly] = rows[y];
      for (let x = 0; x < to.w; x++) {
        const [x0, x1, lx] = cols[x];
        const top = (1 - lx) * latents[src + y0 * w + x0] + lx * latents[src + y0 * w + x1];
        const bottom = (1 - lx) * latents[src + y1 * w + x0] + lx * latents[src + y1 * w + x1];
        out[dst + y * to.w + x] = (1 - ly) * top + ly * bottom;
      }
    }
  }
  return out;
}

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
