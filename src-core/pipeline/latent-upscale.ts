// A1111's latent upscalers for hires fix (its shared.latent_upscale_modes): torch.nn.functional.interpolate of the
// [batch, C, h, w] latents with align_corners=False and one of six mode/antialias pairs. Each is separable, so one
// table of source taps per axis says it all; the sums follow torch's CPU kernels (UpSample*.cpp in torch 1.13).
import type { HiresUpscaler } from '../contract/images.ts';

export const LATENT_UPSCALE_MODES = ['bilinear', 'bilinear-antialias', 'bicubic', 'bicubic-antialias', 'nearest', 'nearest-exact'] as const;
export type LatentUpscaleMode = (typeof LATENT_UPSCALE_MODES)[number];

/** The latent mode of each latent hires upscaler; the others ("Lanczos", "None") go through pixels. */
const MODE_OF_UPSCALER: Partial<Record<HiresUpscaler, LatentUpscaleMode>> = {
  latent: 'bilinear',
  'latent-antialiased': 'bilinear-antialias',
  'latent-bicubic': 'bicubic',
  'latent-bicubic-antialiased': 'bicubic-antialias',
  'latent-nearest': 'nearest',
  'latent-nearest-exact': 'nearest-exact',
};

/** The interpolation a hires upscaler runs on the latents, or undefined where it decodes, resizes pixels and encodes. */
export const latentModeOf = (upscaler: HiresUpscaler): LatentUpscaleMode | undefined => MODE_OF_UPSCALER[upscaler];

/** For each output index along one axis: the source indices and their weights. */
type AxisTaps = Array<{ index: number[]; weight: number[] }>;

/** torch's cubic convolution (Keys), with its A: -0.75 for plain bicubic, -0.5 (PIL's) for the antialiased one. */
function cubic(x: number, a: number): number {
  const t = Math.abs(x);
  if (t <= 1) return ((a + 2) * t - (a + 3)) * t * t + 1;
  if (t < 2) return ((a * t - 5 * a) * t + 8 * a) * t - 4 * a;
  return 0;
}

const triangle = (x: number) => Math.max(0, 1 - Math.abs(x));

/** nearest: floor(dst * in / out) with torch's float32 scale (exact index shortcuts for equal and doubled sizes). */
function nearestIndex(o: number, inSize: number, outSize: number): number {
  if (outSize === inSize) return o;
  if (outSize === 2 * inSize) return o >> 1;
  return Math.min(Math.floor(Math.fround(o * Math.fround(inSize / outSize))), inSize - 1);
}

/** bicubic without antialias: four taps around scale * (o + 0.5) - 0.5, indices clamped to the edges. */
function bicubicTaps(o: number, inSize: number, scale: number) {
  const real = scale * (o + 0.5) - 0.5,
    i0 = Math.floor(real),
    t = real - i0;
  const weight = [cubic(t + 1, -0.75), cubic(t, -0.75), cubic(1 - t, -0.75), cubic(2 - t, -0.75)];
  const index = [-1, 0, 1, 2].map((k) => Math.min(Math.max(i0 + k, 0), inSize - 1));
  return { index, weight };
}

/**
 * torch's antialiased kernels (_upsample_*_aa): the filter stretched by the scale when shrinking, taps cut at the
 * edges rather than clamped, weights normalised to sum 1. Upscaling, bilinear equals the plain one; bicubic does not.
 */
function antialiasTaps(o: number, inSize: number, scale: number, filter: (x: number) => number, radius: number) {
  const support = scale >= 1 ? radius * scale : radius,
    invScale = scale >= 1 ? 1 / scale : 1,
    centre = scale * (o + 0.5);
  const first = Math.max(Math.trunc(centre - support + 0.5), 0),
    end = Math.min(Math.trunc(centre + support + 0.5), inSize);
  const index: number[] = [],
    weight: number[] = [];
  for (let j = first; j < end; j++) {
    index.push(j);
    weight.push(filter((j - centre + 0.5) * invScale));
  }
  const total = weight.reduce((s, w) => s + w, 0);
  return { index, weight: total !== 0 ? weight.map((w) => w / total) : weight };
}

function axisTaps(inSize: number, outSize: number, mode: LatentUpscaleMode): AxisTaps {
  const scale = inSize / outSize;
  return Array.from({ length: outSize }, (_, o) => {
    switch (mode) {
      case 'nearest':
        return { index: [nearestIndex(o, inSize, outSize)], weight: [1] };
      case 'nearest-exact':
        return { index: [Math.min(Math.floor((o + 0.5) * scale), inSize - 1)], weight: [1] };
      case 'bilinear': {
        const src = Math.max((o + 0.5) * scale - 0.5, 0),
          i0 = Math.floor(src),
          l = src - i0;
        return { index: [i0, i0 < inSize - 1 ? i0 + 1 : i0], weight: [1 - l, l] };
      }
      case 'bicubic':
        return bicubicTaps(o, inSize, scale);
      case 'bilinear-antialias':
        return antialiasTaps(o, inSize, scale, triangle, 1);
      case 'bicubic-antialias':
        return antialiasTaps(o, inSize, scale, (x) => cubic(x, -0.5), 2);
    }
  });
}

/** [batch, C, h, w] latents to [batch, C, H, W] as torch.nn.functional.interpolate(mode, antialias) makes them. */
export function interpolateLatents(
  latents: Float64Array,
  shape: { batch: number; channels: number; h: number; w: number },
  to: { h: number; w: number },
  mode: LatentUpscaleMode,
): Float64Array {
  const { batch, channels, h, w } = shape;
  if (latents.length !== batch * channels * h * w)
    throw new Error(`latents hold ${latents.length} values, not ${batch}x${channels}x${h}x${w}`);
  const rows = axisTaps(h, to.h, mode),
    cols = axisTaps(w, to.w, mode);
  const out = new Float64Array(batch * channels * to.h * to.w),
    wide = new Float64Array(h * to.w);
  for (let plane = 0; plane < batch * channels; plane++) {
    const src = plane * h * w,
      dst = plane * to.h * to.w;
    // Along each row first, then down the columns.
    for (let y = 0; y < h; y++)
      for (let x = 0; x < to.w; x++) {
        const { index, weight } = cols[x];
        let sum = 0;
        for (let k = 0; k < index.length; k++) sum += weight[k] * latents[src + y * w + index[k]];
        wide[y * to.w + x] = sum;
      }
    for (let y = 0; y < to.h; y++) {
      const { index, weight } = rows[y];
      for (let x = 0; x < to.w; x++) {
        let sum = 0;
        for (let k = 0; k < index.length; k++) sum += weight[k] * wide[index[k] * to.w + x];
        out[dst + y * to.w + x] = sum;
      }
    }
  }
  return out;
}
