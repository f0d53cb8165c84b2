// job.preview carries an RGBA image of latent resolution as base64; check it before drawing.
import type { Events } from '../../../src-core/contract/api.ts';
import { base64ToBytes } from './base64.ts';

export interface PreviewPixels {
  width: number;
  height: number;
  rgba: Uint8ClampedArray<ArrayBuffer>;
}

export function decodePreview(p: Events['job.preview']): PreviewPixels | null {
  if (!Number.isInteger(p.width) || !Number.isInteger(p.height) || p.width <= 0 || p.height <= 0) return null;
  let bytes: Uint8Array;
  try {
    bytes = base64ToBytes(p.rgbaBase64);
  } catch {
    return null;
  }
  if (bytes.length !== p.width * p.height * 4) return null;
  const rgba = new Uint8ClampedArray(new ArrayBuffer(bytes.length));
  rgba.set(bytes);
  return { width: p.width, height: p.height, rgba };
}
