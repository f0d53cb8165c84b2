// Input images to 8-bit RGB: PNG (every bit depth and colour type, palette and tRNS included), JPEG and
// WebP. The size is checked from the header first, so an oversized image is refused before decoding.
// Transparency is flattened onto white, as A1111 does with its default img2img background (#ffffff), and photos
// are turned upright by their EXIF orientation (orientation.ts).
import { decode as decodePng, convertIndexedToRgb } from 'fast-png';
import jpeg from 'jpeg-js';
import { INPUT_IMAGE_LIMITS, type InputImageFormat } from '../contract/images.ts';
import { ImageInputError, readImageHeader } from './header.ts';
import { applyOrientation, exifOrientation } from './orientation.ts';
import { decodeWebp } from './webp.ts';

/** Pixels row-major, 3 bytes (R, G, B) each. */
export interface RgbImage {
  width: number;
  height: number;
  data: Uint8Array;
}

export interface DecodedInput extends RgbImage {
  format: InputImageFormat;
  /** What the decoding did that the user should know (transparency flattened, 16 bits reduced to 8). */
  notes: string[];
}

/**
 * Channels of `max`-scaled samples (1 grey, 2 grey + alpha, 3 RGB, 4 RGBA) to RGB bytes, alpha
 * composited over white: out = c * a + 255 * (1 - a), with c and a in [0, 1].
 */
function toRgb(
  samples: ArrayLike<number>,
  width: number,
  height: number,
  channels: number,
  max: number,
  alphaOf?: (pixel: number) => number,
): { data: Uint8Array; transparent: boolean } {
  const n = width * height,
    out = new Uint8Array(n * 3);
  const colour = channels >= 3 ? 3 : 1,
    hasAlpha = channels === 2 || channels === 4;
  let transparent = false;
  for (let p = 0; p < n; p++) {
    const a = hasAlpha ? samples[p * channels + colour] / max : alphaOf ? alphaOf(p) : 1;
    if (a < 1) transparent = true;
    for (let c = 0; c < 3; c++) {
      const v = samples[p * channels + (colour === 3 ? c : 0)] / max;
      out[p * 3 + c] = Math.round((v * a + (1 - a)) * 255);
    }
  }
  return { data: out, transparent };
}

/** Samples of 1-, 2- and 4-bit greyscale rows (packed, each row starting on a byte) as one value each. */
function unpackLowDepth(data: ArrayLike<number>, width: number, height: number, depth: number): Uint8Array {
  const out = new Uint8Array(width * height),
    stride = Math.ceil((width * depth) / 8),
    mask = (1 << depth) - 1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const bit = x * depth;
      out[y * width + x] = (data[y * stride + (bit >> 3)] >> (8 - depth - (bit & 7))) & mask;
    }
  }
  return out;
}

function fromPng(bytes: Uint8Array): { image: RgbImage; notes: string[] } {
  let png;
  try {
    png = decodePng(bytes, { checkCrc: true });
  } catch (error) {
    throw new ImageInputError(`this PNG file cannot be decoded (${(error as Error).message})`);
  }
  const { width, height, depth, channels } = png;
  const notes: string[] = [];
  let result: { data: Uint8Array; transparent: boolean };
  if (png.palette) {
    const rgb = convertIndexedToRgb(png);
    result = toRgb(rgb, width, height, png.palette[0]?.length ?? 3, 255);
  } else {
    const samples = depth < 8 ? unpackLowDepth(png.data, width, height, depth) : png.data;
    const max = 2 ** depth - 1;
    // A tRNS colour key (one grey or RGB value) makes the pixels of exactly that colour transparent.
    const key = png.transparency && png.transparency.length === channels ? png.transparency : undefined;
    const alphaOf = key ? (p: number) => (Array.from(key).every((k, c) => samples[p * channels + c] === k) ? 0 : 1) : undefined;
    result = toRgb(samples, width, height, channels, max, alphaOf);
    if (depth === 16) notes.push('the 16-bit PNG was reduced to 8 bits per channel (rounded)');
  }
  if (result.transparent) notes.push('transparent pixels were flattened onto white, as A1111 does');
  return { image: { width, height, data: result.data }, notes };
}

function fromJpeg(bytes: Uint8Array): RgbImage {
  try {
    const decoded = jpeg.decode(bytes, {
      useTArray: true,
      formatAsRGBA: false,
      tolerantDecoding: false,
      maxResolutionInMP: INPUT_IMAGE_LIMITS.pixels / 1e6,
      maxMemoryUsageInMB: 1024,
    });
    return { width: decoded.width, height: decoded.height, data: decoded.data };
  } catch (error) {
    throw new ImageInputError(`this JPEG file cannot be decoded (${(error as Error).message})`);
  }
}

async function fromWebp(bytes: Uint8Array): Promise<{ image: RgbImage; notes: string[] }> {
  const rgba = await decodeWebp(bytes);
  const { data, transparent } = toRgb(rgba.data, rgba.width, rgba.height, 4, 255);
  return {
    image: { width: rgba.width, height: rgba.height, data },
    notes: transparent ? ['transparent pixels were flattened onto white, as A1111 does'] : [],
  };
}

/** Decodes a PNG, JPEG or WebP input to RGB; every refusal is an ImageInputError with a sentence for the user. */
export async function decodeInputImage(bytes: Uint8Array): Promise<DecodedInput> {
  const header = readImageHeader(bytes);
  let decoded: { image: RgbImage; notes: string[] };
  if (header.format === 'png') decoded = fromPng(bytes);
  else if (header.format === 'jpeg') decoded = { image: fromJpeg(bytes), notes: [] };
  else decoded = await fromWebp(bytes);
  const { image } = decoded;
  if (image.width !== header.width || image.height !== header.height) {
    throw new ImageInputError(
      `this ${header.format.toUpperCase()} file's header says ` +
        `${header.width}x${header.height} but its pixels are ${image.width}x${image.height}`,
    );
  }
  const orientation = await exifOrientation(bytes, header.format);
  const notes = orientation === 1 ? decoded.notes : [...decoded.notes, `turned upright as its EXIF orientation (${orientation}) says`];
  return { ...applyOrientation(image, orientation), format: header.format, notes };
}
