// An input image's format and size, read from its first bytes only: enough to refuse a file that is not
// an image, or one too large to decode, before any pixel is decoded.
import { INPUT_IMAGE_LIMITS, type InputImageFormat } from '../contract/images.ts';

export class ImageInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ImageInputError';
  }
}

export interface ImageHeader {
  format: InputImageFormat;
  width: number;
  height: number;
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
/** `length` bytes from `at` as Latin-1 text (chunk names, signatures). */
export const ascii = (bytes: Uint8Array, at: number, length: number) => String.fromCharCode(...bytes.subarray(at, at + length));

function needBytes(bytes: Uint8Array, length: number, format: string): void {
  if (bytes.length < length)
    throw new ImageInputError(`this ${format} file is cut short (${bytes.length} bytes; its header alone needs ${length})`);
}

function pngHeader(bytes: Uint8Array): ImageHeader {
  needBytes(bytes, 33, 'PNG');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (ascii(bytes, 12, 4) !== 'IHDR') throw new ImageInputError('this PNG file does not start with its IHDR chunk');
  return { format: 'png', width: view.getUint32(16), height: view.getUint32(20) };
}

/** Baseline, extended, progressive and lossless JPEG frame headers (SOF0-3, 5-7, 9-11, 13-15). */
const isStartOfFrame = (marker: number) => marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;

function jpegHeader(bytes: Uint8Array): ImageHeader {
  let at = 2;
  while (at + 4 <= bytes.length) {
    if (bytes[at] !== 0xff) throw new ImageInputError(`this JPEG file is damaged (no marker at byte ${at})`);
    const marker = bytes[at + 1];
    if (marker === 0xff) {
      at++;
      continue;
    } // fill byte
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      at += 2;
      continue;
    } // markers without a length
    if (marker === 0xda || marker === 0xd9) break; // image data or end before any frame header
    const length = (bytes[at + 2] << 8) | bytes[at + 3];
    if (length < 2) throw new ImageInputError(`this JPEG file is damaged (segment length ${length} at byte ${at})`);
    if (isStartOfFrame(marker)) {
      needBytes(bytes, at + 9, 'JPEG');
      return { format: 'jpeg', height: (bytes[at + 5] << 8) | bytes[at + 6], width: (bytes[at + 7] << 8) | bytes[at + 8] };
    }
    at += 2 + length;
  }
  throw new ImageInputError('this JPEG file has no frame header (it is cut short or damaged)');
}

function webpHeader(bytes: Uint8Array): ImageHeader {
  needBytes(bytes, 30, 'WebP');
  const chunk = ascii(bytes, 12, 4);
  const u24 = (at: number) => bytes[at] | (bytes[at + 1] << 8) | (bytes[at + 2] << 16);
  if (chunk === 'VP8X') {
    if (bytes[20] & 0x02) throw new ImageInputError('animated WebP files are not supported; save one frame as a still image');
    return { format: 'webp', width: u24(24) + 1, height: u24(27) + 1 };
  }
  if (chunk === 'VP8 ') {
    if (bytes[23] !== 0x9d || bytes[24] !== 0x01 || bytes[25] !== 0x2a)
      throw new ImageInputError('this WebP file is damaged (no VP8 frame start code)');
    return { format: 'webp', width: ((bytes[27] << 8) | bytes[26]) & 0x3fff, height: ((bytes[29] << 8) | bytes[28]) & 0x3fff };
  }
  if (chunk === 'VP8L') {
    if (bytes[20] !== 0x2f) throw new ImageInputError('this WebP file is damaged (no VP8L signature)');
    const bits = bytes[21] | (bytes[22] << 8) | (bytes[23] << 16) | (bytes[24] << 24);
    return { format: 'webp', width: (bits & 0x3fff) + 1, height: ((bits >>> 14) & 0x3fff) + 1 };
  }
  throw new ImageInputError(`this WebP file has an unknown first chunk "${chunk.replace(/[^\x20-\x7e]/g, '?')}"`);
}

/** What kind of file this looks like, in words, for files that are not PNG, JPEG or WebP. */
function describeOther(bytes: Uint8Array): string {
  const start = ascii(bytes, 0, Math.min(bytes.length, 16));
  if (start.startsWith('GIF8')) return 'a GIF image';
  if (start.startsWith('BM')) return 'a BMP image';
  if (start.startsWith('II*\0') || start.startsWith('MM\0*')) return 'a TIFF image';
  if (ascii(bytes, 4, 8) === 'ftypavif' || ascii(bytes, 4, 8) === 'ftypheic') return 'an AVIF/HEIC image';
  if (start.startsWith('%PDF')) return 'a PDF document';
  if (/^\s*</.test(start)) return 'a text or SVG/HTML file';
  return 'not an image';
}

/** The format and size from the header; throws ImageInputError for anything else, or when over the limits. */
export function readImageHeader(bytes: Uint8Array): ImageHeader {
  if (bytes.length === 0) throw new ImageInputError('the file is empty');
  if (bytes.length > INPUT_IMAGE_LIMITS.bytes) {
    throw new ImageInputError(
      `the file is ${(bytes.length / 2 ** 20).toFixed(1)} MiB; at most ${INPUT_IMAGE_LIMITS.bytes / 2 ** 20} MiB is accepted`,
    );
  }
  let header: ImageHeader;
  if (PNG_SIGNATURE.every((b, i) => bytes[i] === b)) header = pngHeader(bytes);
  else if (bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) header = jpegHeader(bytes);
  else if (ascii(bytes, 0, 4) === 'RIFF' && ascii(bytes, 8, 4) === 'WEBP') header = webpHeader(bytes);
  else throw new ImageInputError(`this file is ${describeOther(bytes)}; PNG, JPEG and WebP images are accepted`);
  checkImageSize(header);
  return header;
}

export function checkImageSize({ format, width, height }: ImageHeader): void {
  const name = format.toUpperCase();
  if (width < 1 || height < 1) throw new ImageInputError(`this ${name} file says it is ${width}x${height} pixels`);
  if (width > INPUT_IMAGE_LIMITS.side || height > INPUT_IMAGE_LIMITS.side || width * height > INPUT_IMAGE_LIMITS.pixels) {
    throw new ImageInputError(
      `this ${name} image is ${width}x${height} (${((width * height) / 1e6).toFixed(1)} ` +
        `megapixels); at most ${INPUT_IMAGE_LIMITS.pixels / 1e6} megapixels ` +
        `and ${INPUT_IMAGE_LIMITS.side} pixels a side are accepted: make it smaller first`,
    );
  }
}
