// Generated images as PNG files, deflated in libuv's thread pool (node:zlib's asynchronous deflate): the calling
// thread only lays out the scanlines and the chunks, so a batch's PNGs are made while the next batch samples. A large
// image's scanlines are deflated in pieces at once, one per job of the pool (deflateRows), so that the job's last
// PNG, which nothing overlaps, takes a fraction of one core's time.
// 8-bit RGBA with filter 0 on every row, as fast-png wrote them; text entries right after IHDR, as A1111's.
import { promisify } from 'node:util';
import { constants, deflate, deflateRaw } from 'node:zlib';
import { adler32 } from './adler32.ts';
import { makeChunk, SIGNATURE, textChunks } from './text-chunks.ts';

const deflateAsync = promisify(deflate);
const deflateRawAsync = promisify(deflateRaw);
/** zlib's level 3: about fast-png's file sizes at a fraction of level 6's time. */
const LEVEL = 3;
/** Scanlines deflated in one piece up to this size, in more pieces of about this size beyond (at most MAX_PIECES). */
const PIECE_BYTES = 256 * 1024;
const MAX_PIECES = 8;
/** deflate's window: a piece primed with the bytes before it keeps the matches across its seam. */
const WINDOW = 32 * 1024;
/** A zlib stream's header as zlib writes it at level 3 (deflate, 32 KiB window, "fast" compression; RFC 1950). */
const ZLIB_HEADER = Buffer.from([0x78, 0x5e]);

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
  return pngFile(width, height, text, await deflateRows(rows, width * 4 + 1));
}

/**
 * The scanlines' zlib stream. Up to PIECE_BYTES, one deflate. Beyond, pieces of whole rows are deflated apart, as
 * pigz does: each primed with the WINDOW bytes before it, each but the last ended by a sync flush (so that it ends
 * on a byte, with no final block), and joined between zlib's header and the Adler-32 of all the rows, which this
 * thread sums while the pool deflates. The rows must stay as they are until it resolves.
 */
async function deflateRows(rows: Buffer, rowBytes: number): Promise<Buffer> {
  const count = Math.min(MAX_PIECES, Math.ceil(rows.length / PIECE_BYTES));
  if (count <= 1) return deflateAsync(rows, { level: LEVEL });
  const pieceBytes = Math.ceil(rows.length / rowBytes / count) * rowBytes;
  const pieces: Promise<Buffer>[] = [];
  for (let start = 0; start < rows.length; start += pieceBytes) {
    const end = Math.min(rows.length, start + pieceBytes);
    const options = {
      level: LEVEL,
      finishFlush: end === rows.length ? constants.Z_FINISH : constants.Z_SYNC_FLUSH,
      ...(start > 0 ? { dictionary: rows.subarray(Math.max(0, start - WINDOW), start) } : {}),
    };
    pieces.push(deflateRawAsync(rows.subarray(start, end), options));
  }
  const checksum = Buffer.alloc(4);
  checksum.writeUInt32BE(adler32(rows));
  return Buffer.concat([ZLIB_HEADER, ...(await Promise.all(pieces)), checksum]);
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
