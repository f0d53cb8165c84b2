// Generated images as PNG files, deflated in libuv's thread pool (node:zlib's asynchronous deflate): the main
// thread only lays out the scanlines and the chunks, so a batch's PNGs are made while the next batch samples.
// 8-bit RGBA with filter 0 on every row, as fast-png wrote them; text entries right after IHDR, as A1111's.
import { promisify } from 'node:util';
import { deflate, deflateSync } from 'node:zlib';
import { makeChunk, SIGNATURE, textChunks } from './text-chunks.ts';

const deflateAsync = promisify(deflate);
/** zlib's level 3: about fast-png's file sizes at a fraction of level 6's time. */
const LEVEL = 3;

/** Rows of RGBA bytes, each after its filter-type byte (0: none). */
function scanlines(rgba: Uint8Array, width: number, height: number): Buffer {
  const row = width * 4,
    out = Buffer.alloc(height * (row + 1));
  for (let y = 0; y < height; y++) out.set(rgba.subarray(y * row, (y + 1) * row), y * (row + 1) + 1);
  return out;
}

/** A PNG file of `width` x `height` RGBA pixels with text entries (keyword -> text). */
export function encodeRgbaPng(rgba: Uint8Array, width: number, height: number, text: Record<string, string> = {}): Promise<Buffer> {
  if (rgba.length !== width * height * 4)
    return Promise.reject(new RangeError(`${rgba.length} bytes are not ${width} x ${height} RGBA pixels`));
  return encodePngRows(scanlines(rgba, width, height), width, height, text);
}

/** A PNG file from its RGBA rows as scanlines (each after its filter byte), with text entries. */
export async function encodePngRows(rows: Buffer, width: number, height: number, text: Record<string, string> = {}): Promise<Buffer> {
  checkRows(rows, width, height);
  return pngFile(width, height, text, await deflateAsync(rows, { level: LEVEL }));
}

/** encodePngRows on the calling thread (the PNG encoder's worker thread, png/encode-thread.ts): the same bytes. */
export function encodePngRowsSync(rows: Buffer, width: number, height: number, text: Record<string, string> = {}): Buffer {
  checkRows(rows, width, height);
  return pngFile(width, height, text, deflateSync(rows, { level: LEVEL }));
}

function checkRows(rows: Buffer, width: number, height: number): void {
  if (rows.length !== height * (width * 4 + 1)) throw new RangeError(`${rows.length} bytes are not ${height} rows of ${width} RGBA pixels`);
}

function pngFile(width: number, height: number, text: Record<string, string>, deflated: Buffer): Buffer {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bits per channel
  header[9] = 6; // colour type: RGBA (compression, filter and interlace methods stay 0)
  return Buffer.concat([
    SIGNATURE,
    makeChunk('IHDR', header),
    ...textChunks(text),
    makeChunk('IDAT', deflated),
    makeChunk('IEND', Buffer.alloc(0)),
  ]);
}
