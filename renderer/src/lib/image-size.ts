// The size fields' bounds and advice: min/max/step from the contract and the model's VAE factor (one
// source of truth for the browser's own checks and the form's), and a warning in words when a size is
// far from the model's native one.
import { LIMITS } from '../../../src-core/contract/generate.ts';

export interface SizeBounds {
  min: number;
  max: number;
  step: number;
}

/** The sides both the contract and the VAE accept: multiples of the VAE factor within the contract's range. */
export function sizeBounds(vaeFactor: number): SizeBounds {
  const step = Number.isInteger(vaeFactor) && vaeFactor > 0 ? vaeFactor : 8;
  return {
    min: Math.ceil(LIMITS.minImageSide / step) * step,
    max: Math.floor(LIMITS.imageSide / step) * step,
    step,
  };
}

/** A side more than this many times the native one (or under its inverse) is "far". */
export const FAR_FACTOR = 2;

/** A warning when a side is more than twice or under half the model's native side; null otherwise. */
export function nativeSizeWarning(width: number | null, height: number | null, native: { width: number; height: number } | null): string | null {
  if (!native || !width || !height || native.width <= 0 || native.height <= 0) return null;
  const ratios = [width / native.width, height / native.height];
  const chosen = `${width}×${height}`, own = `${native.width}×${native.height}`;
  if (ratios.some((r) => r > FAR_FACTOR)) {
    return `${chosen} is far larger than this model's native ${own}: expect slow generation, much more memory (the engine may refuse it or run out), and duplicated subjects, since the model repeats what it learned at its own size.`;
  }
  if (ratios.some((r) => r < 1 / FAR_FACTOR)) {
    return `${chosen} is far smaller than this model's native ${own}: expect blurred or broken images.`;
  }
  return null;
}
