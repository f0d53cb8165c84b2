// Hostile PNGs built in code, for the PNG reader's tests and the fuzzer: decompression bombs, text
// that makes a backtracking parser quadratic, broken chunk framing, floods of chunks, over-long
// prompts. Each is a valid PNG image except where its name says otherwise, so only the text is hostile.
import { crc32, deflateSync } from 'node:zlib';
import { encode } from 'fast-png';

export interface HostilePng {
  name: string;
  bytes: Buffer;
  /** What the file attacks, in words. */
  about: string;
}

const MiB = 1024 * 1024;

/** A chunk as the PNG spec frames it: length, type, data, CRC of type + data. */
export function pngChunk(type: string, data: Buffer, options: { declaredLength?: number; crc?: number } = {}): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(options.declaredLength ?? data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(options.crc ?? crc32(Buffer.concat([head.subarray(4), data])) >>> 0, 0);
  return Buffer.concat([head, data, crc]);
}

export const tEXt = (keyword: string, text: string): Buffer =>
  pngChunk('tEXt', Buffer.concat([Buffer.from(`${keyword}\0`, 'latin1'), Buffer.from(text, 'latin1')]));

/** zTXt: keyword, NUL, compression method 0, zlib stream. */
export const zTXtDeflated = (keyword: string, deflated: Buffer): Buffer =>
  pngChunk('zTXt', Buffer.concat([Buffer.from(`${keyword}\0\0`, 'latin1'), deflated]));

/** iTXt: keyword, NUL, compressed flag, method, empty language, NUL, empty translated keyword, NUL, body. */
export const iTXtDeflated = (keyword: string, deflated: Buffer): Buffer =>
  pngChunk('iTXt', Buffer.concat([Buffer.from(`${keyword}\0\x01\0\0\0`, 'latin1'), deflated]));

/** An 8x8 RGBA image split into its signature + IHDR head and the rest (IDAT, IEND). */
function basePng(): { head: Buffer; tail: Buffer } {
  const png = Buffer.from(encode({ width: 8, height: 8, data: new Uint8Array(8 * 8 * 4).fill(128), channels: 4, depth: 8 }));
  const afterIhdr = 8 + 12 + png.readUInt32BE(8);
  return { head: png.subarray(0, afterIhdr), tail: png.subarray(afterIhdr) };
}

/** A PNG with the given chunks right after IHDR. */
export function pngWithChunks(chunks: Buffer[]): Buffer {
  const { head, tail } = basePng();
  return Buffer.concat([head, ...chunks, tail]);
}

const PARAMS = 'Steps: 20, Sampler: Euler, CFG scale: 7, Seed: 1, Size: 8x8';

/** Texts that made the old regex parser quadratic; each is under 1 MiB, so a reader must parse it. */
export function quadraticParameterTexts(size = 900_000): Array<{ name: string; text: string }> {
  const fill = (unit: string) => unit.repeat(Math.ceil(size / unit.length)).slice(0, size);
  return [
    { name: 'words', text: fill('a ') },
    { name: 'escaped-quotes', text: fill('kk: "\\", ') },
    { name: 'backslash-quote-run', text: `k: ${fill('"\\')}` },
    { name: 'colons', text: fill('a:') },
    { name: 'no-commas', text: fill('Key: value ') },
    { name: 'dashes-and-slashes', text: fill('a-/ ') },
  ];
}

let cached: HostilePng[] | undefined;

/** The hostile PNGs (built once per process: the bombs take a moment to deflate). */
export function hostilePngs(): HostilePng[] {
  if (cached) return cached;
  const bomb = deflateSync(Buffer.alloc(100 * MiB, 'a '), { level: 9 }); // ~100 KB on disk, 100 MiB inflated
  const quadraticSmall = deflateSync(Buffer.from('a '.repeat(500_000), 'latin1'), { level: 9 });
  const good = tEXt('parameters', `a cat\n${PARAMS}`);
  const goodFramed = pngWithChunks([good]);
  const tinyZ = zTXtDeflated('x', deflateSync(Buffer.from('y')));
  cached = [
    { name: 'ztxt-bomb', bytes: pngWithChunks([zTXtDeflated('parameters', bomb)]), about: 'a zTXt parameters chunk inflating to 100 MiB' },
    {
      name: 'itxt-bomb',
      bytes: pngWithChunks([iTXtDeflated('parameters', bomb)]),
      about: 'a compressed iTXt parameters chunk inflating to 100 MiB',
    },
    {
      name: 'many-small-bombs',
      bytes: pngWithChunks(Array.from({ length: 40 }, (_, i) => zTXtDeflated(`k${i}`, bomb))),
      about: '40 zTXt chunks of 100 MiB each',
    },
    {
      name: 'quadratic-parameters-ztxt',
      bytes: pngWithChunks([zTXtDeflated('parameters', quadraticSmall)]),
      about: `1 MB of "a a a" in ${quadraticSmall.length} compressed bytes`,
    },
    ...quadraticParameterTexts().map(({ name, text }) => ({
      name: `quadratic-parameters-${name}`,
      bytes: pngWithChunks([tEXt('parameters', text)]),
      about: `parameters text: 900k characters of ${name}`,
    })),
    { name: 'truncated-text-chunk', bytes: goodFramed.subarray(0, 33 + 10), about: 'the file ends inside the parameters chunk' },
    {
      name: 'huge-declared-length',
      bytes: pngWithChunks([pngChunk('tEXt', Buffer.from('parameters\0a cat'), { declaredLength: 0xffff_fff0 })]),
      about: 'a chunk declaring 4 GiB of data',
    },
    {
      name: 'bad-crc',
      bytes: pngWithChunks([pngChunk('tEXt', Buffer.from(`parameters\0a cat\n${PARAMS}`), { crc: 0xdeadbeef })]),
      about: 'a parameters chunk with a wrong CRC',
    },
    {
      name: 'many-tiny-text-chunks',
      bytes: pngWithChunks([...Array.from({ length: 100_000 }, (_, i) => tEXt(`k${i % 1000}`, 'v')), good]),
      about: '100,000 tEXt chunks before the parameters',
    },
    {
      name: 'many-tiny-ztxt-chunks',
      bytes: pngWithChunks([...Array.from({ length: 50_000 }, () => tinyZ), good]),
      about: '50,000 zTXt chunks (one inflate each) before the parameters',
    },
    {
      name: 'many-empty-chunks',
      bytes: pngWithChunks([...Array.from({ length: 200_000 }, () => pngChunk('abCd', Buffer.alloc(0))), good]),
      about: '200,000 empty unknown chunks',
    },
    {
      name: 'long-prompt',
      bytes: pngWithChunks([tEXt('parameters', `${'p'.repeat(25_000)}\nNegative prompt: ${'n'.repeat(30_000)}\n${PARAMS}`)]),
      about: 'a 25,000-character prompt and a 30,000-character negative prompt (the limit is 20,000)',
    },
    {
      name: 'unterminated-keyword',
      bytes: pngWithChunks([pngChunk('tEXt', Buffer.alloc(500_000, 'k'))]),
      about: 'a text chunk with no NUL after its keyword',
    },
    {
      name: 'corrupt-zlib',
      bytes: pngWithChunks([zTXtDeflated('parameters', Buffer.from('not zlib at all'))]),
      about: 'a zTXt chunk whose data is not a zlib stream',
    },
    { name: 'not-a-png', bytes: Buffer.from('GIF89a not a png'), about: 'not a PNG at all' },
  ];
  return cached;
}
