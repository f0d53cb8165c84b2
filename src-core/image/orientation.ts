// EXIF orientation (tag 0x0112): phone cameras store the sensor's pixels and a tag that says how to turn them.
// Browsers show such a photo turned, and A1111 turns img2img inputs the same way (Pillow's exif_transpose), so
// the engine must too, or the image it works on is not the one the person sees.
import exifr from 'exifr';
import type { InputImageFormat } from '../contract/images.ts';
import type { RgbImage } from './decode.ts';
import { ascii } from './header.ts';

/** The payload of a WebP file's EXIF chunk (a TIFF block), which exifr does not look for itself. */
function webpExif(bytes: Uint8Array): Uint8Array | undefined {
  for (let at = 12; at + 8 <= bytes.length;) {
    const size = bytes[at + 4] | (bytes[at + 5] << 8) | (bytes[at + 6] << 16) | (bytes[at + 7] << 24);
    if (size < 0) return undefined;
    if (ascii(bytes, at, 4) === 'EXIF') return bytes.subarray(at + 8, at + 8 + size);
    at += 8 + size + (size & 1);
  }
  return undefined;
}

/** The orientation, 1 (as stored) to 8; 1 when the file has none or a damaged or unknown value. */
export async function exifOrientation(bytes: Uint8Array, format: InputImageFormat): Promise<number> {
  const source = format === 'webp' ? webpExif(bytes) : bytes;
  if (!source) return 1;
  try {
    const value: unknown = await exifr.orientation(source);
    return typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= 8 ? value : 1;
  } catch {
    return 1; // a damaged EXIF block: show the pixels as stored, as browsers do
  }
}

/**
 * The image turned upright. For orientation o, the output pixel (x, y) reads the stored pixel given by the
 * EXIF definitions: 2 mirror, 3 rotate 180, 4 flip, 5 transpose, 6 rotate 90 clockwise, 7 transverse, 8 rotate 90
 * anticlockwise (the stored image is shown rotated so that its first row becomes the right column for 6).
 */
export function applyOrientation(image: RgbImage, orientation: number): RgbImage {
  if (orientation === 1) return image;
  const { width: w, height: h, data } = image;
  const swaps = orientation >= 5;
  const outW = swaps ? h : w,
    outH = swaps ? w : h;
  const source: (x: number, y: number) => number = {
    2: (x: number, y: number) => y * w + (w - 1 - x),
    3: (x: number, y: number) => (h - 1 - y) * w + (w - 1 - x),
    4: (x: number, y: number) => (h - 1 - y) * w + x,
    5: (x: number, y: number) => x * w + y,
    6: (x: number, y: number) => (h - 1 - x) * w + y,
    7: (x: number, y: number) => (h - 1 - x) * w + (w - 1 - y),
    8: (x: number, y: number) => x * w + (w - 1 - y),
  }[orientation]!;
  const out = new Uint8Array(outW * outH * 3);
  for (let y = 0; y < outH; y++) {
    for (let x = 0; x < outW; x++) {
      const from = source(x, y) * 3,
        to = (y * outW + x) * 3;
      out[to] = data[from];
      out[to + 1] = data[from + 1];
      out[to + 2] = data[from + 2];
    }
  }
  return { width: outW, height: outH, data: out };
}
