// The size fields' bounds and advice: min/max/step from the contract and the model's size multiple (one
// source of truth for the browser's own checks and the form's), and a warning in words when a size is
// far from the model's native one.
import { LIMITS } from '../../../src-core/contract/generate.ts';

export interface SizeBounds {
  min: number;
  max: number;
  step: number;
}

/**
 * The sides both the contract and the model accept: multiples of the model's size multiple (LoadedModel.sizeMultiple:
 * the VAE factor times the UNet's downsamplings) within the contract's range.
 */
export function sizeBounds(multiple: number): SizeBounds {
  const step = Number.isInteger(multiple) && multiple > 0 ? multiple : 8;
  return {
    min: Math.ceil(LIMITS.minImageSide / step) * step,
    max: Math.floor(LIMITS.imageSide / step) * step,
    step,
  };
}

/** SDXL's usual sizes, width x height: A1111's and Fooocus's aspect ratios around one megapixel. */
export const SDXL_SIZES: ReadonlyArray<readonly [number, number]> = [
  [1024, 1024],
  [1152, 896],
  [896, 1152],
  [1216, 832],
  [832, 1216],
  [1344, 768],
  [768, 1344],
  [1536, 640],
  [640, 1536],
];

export interface SizePreset {
  width: number;
  height: number;
  label: string;
}

/**
 * The size presets of a model: SDXL's sizes for SDXL models, none for other models. A model whose native size is
 * not 1024 (a small test model) gets them scaled to it, rounded to what its UNet takes: SDXL's UNet halves the
 * latent twice, so sides are multiples of 4 latent cells (32 pixels), as all of SDXL's own sizes are.
 */
export function sizePresets(model: { width: number; height: number; family?: string } | null, vaeFactor: number): SizePreset[] {
  if (!model || model.family !== 'sdxl') return [];
  const step = 4 * sizeBounds(vaeFactor).step;
  const scale = model.width / 1024;
  const seen = new Set<string>();
  const presets: SizePreset[] = [];
  for (const [w, h] of SDXL_SIZES) {
    const width = Math.max(step, Math.round((w * scale) / step) * step),
      height = Math.max(step, Math.round((h * scale) / step) * step);
    const key = `${width}x${height}`;
    if (seen.has(key)) continue;
    seen.add(key);
    presets.push({ width, height, label: `${width}×${height}` });
  }
  return presets;
}

/** A side more than this many times the native one (or under its inverse) is "far". */
export const FAR_FACTOR = 2;

/** A warning when a side is more than twice or under half the model's native side; null otherwise. */
export function nativeSizeWarning(
  width: number | null,
  height: number | null,
  native: { width: number; height: number } | null,
): string | null {
  if (!native || !width || !height || native.width <= 0 || native.height <= 0) return null;
  const ratios = [width / native.width, height / native.height];
  const chosen = `${width}×${height}`,
    own = `${native.width}×${native.height}`;
  if (ratios.some((r) => r > FAR_FACTOR)) {
    return (
      `${chosen} is far larger than this model's native ${own}: expect slow generation, ` +
      'much more memory (the engine may refuse it or run out), and duplicated subjects, ' +
      'since the model repeats what it learned at its own size.'
    );
  }
  if (ratios.some((r) => r < 1 / FAR_FACTOR)) {
    return `${chosen} is far smaller than this model's native ${own}: expect blurred or broken images.`;
  }
  return null;
}
