// PNG text chunks (tEXt, zTXt, iTXt): reading all three, writing tEXt or iTXt. The pixel data is
// left to png/encode.ts (and fast-png); this only walks, builds and splices chunks (PNG spec, section 11.3.4).
import { crc32, inflateSync } from 'node:zlib';

/** The eight bytes every PNG file starts with. */
export const SIGNATURE = Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]);

export interface Chunk {
  type: string;
  data: Buffer;
  start: number;
  end: number;
}

/** The chunks of a PNG in file order, up to IEND; throws for a non-PNG or a chunk cut short. */
export function* chunks(png: Buffer): Generator<Chunk> {
  if (png.length < 8 || !png.subarray(0, 8).equals(SIGNATURE)) throw new Error('not a PNG file');
  let offset = 8;
  while (offset + 12 <= png.length) {
    const length = png.readUInt32BE(offset);
    const type = png.toString('latin1', offset + 4, offset + 8);
    const end = offset + 12 + length;
    if (end > png.length) throw new Error(`PNG chunk ${type} runs past the end of the file (truncated?)`);
    yield { type, data: png.subarray(offset + 8, offset + 8 + length), start: offset, end };
    if (type === 'IEND') return;
    offset = end;
  }
}

const MiB = 1024 * 1024;
/** The most text one chunk may hold, inflated. A1111's parameters are a few KB even with long
 * prompts, ComfyUI's workflows some hundred KB; a zTXt bomb inflates 1 KB into 1 MB. */
export const MAX_TEXT_BYTES_PER_CHUNK = 1 * MiB;
/** The most text read from one file, chunks ignored for their size included (inflating them up to
 * the cap was work done too): bounds what many bombs in one file can cost. */
export const MAX_TEXT_BYTES_TOTAL = 4 * MiB;
/** Text chunks read per file: A1111, Fooocus and ComfyUI write one to a handful. */
export const MAX_TEXT_CHUNKS = 1000;
/** Chunks walked per file: an encoder's 8 KiB IDAT chunks reach this at 800 MB of pixel data;
 * 12-byte empty chunks would otherwise cost time in proportion to the file's size. */
export const MAX_CHUNKS = 100_000;

export interface PngText {
  /** keyword -> text; the first readable chunk wins for a repeated keyword. */
  texts: Record<string, string>;
  /** Why text was left unread, in words (for png.read's notes); empty when nothing was. */
  ignored: string[];
}

const TEXT_TYPES = new Set(['tEXt', 'zTXt', 'iTXt']);
const totalNote = `the text chunks of this PNG hold more than ${MAX_TEXT_BYTES_TOTAL / MiB} MiB together; the rest were ignored`;

/**
 * The text entries of a PNG, read with bounded work: a chunk over MAX_TEXT_BYTES_PER_CHUNK, text past
 * MAX_TEXT_BYTES_TOTAL, text chunks past MAX_TEXT_CHUNKS and chunks past MAX_CHUNKS are skipped and
 * said so in `ignored`; a damaged text chunk is skipped silently (it does not make the image
 * unreadable). CRCs are not checked, as before: a flipped bit in a text chunk still reads.
 */
export function readPngText(png: Buffer): PngText {
  const texts: Record<string, string> = Object.create(null);
  const ignored = new Set<string>();
  let budget = MAX_TEXT_BYTES_TOTAL,
    textChunks = 0,
    walked = 0;
  for (const { type, data } of chunks(png)) {
    if (++walked > MAX_CHUNKS) {
      ignored.add(`this PNG has more than ${MAX_CHUNKS.toLocaleString('en-US')} chunks; the rest were not read`);
      break;
    }
    if (!TEXT_TYPES.has(type)) continue;
    if (++textChunks > MAX_TEXT_CHUNKS) {
      ignored.add(`this PNG has more than ${MAX_TEXT_CHUNKS.toLocaleString('en-US')} text chunks; the rest were ignored`);
      continue;
    }
    let entry: TextEntry;
    try {
      entry = splitTextChunk(type, data);
    } catch {
      continue;
    }
    if (entry.keyword in texts) continue; // the first one wins: no need to inflate this one
    if (budget <= 0) {
      ignored.add(totalNote);
      continue;
    }
    const limit = Math.min(MAX_TEXT_BYTES_PER_CHUNK, budget);
    let body: Buffer | undefined;
    try {
      body = entry.compressed ? inflateSync(entry.body, { maxOutputLength: limit }) : entry.body;
    } catch (error) {
      if ((error as { code?: string }).code !== 'ERR_BUFFER_TOO_LARGE') continue; // damaged: skipped
    }
    if (body === undefined || body.length > limit) {
      budget -= limit;
      ignored.add(
        limit === MAX_TEXT_BYTES_PER_CHUNK
          ? `a text chunk of this PNG ${entry.compressed ? 'inflates past' : 'holds more than'} ` +
              `${MAX_TEXT_BYTES_PER_CHUNK / MiB} MiB; it was ignored`
          : totalNote,
      );
      continue;
    }
    budget -= body.length;
    texts[entry.keyword] = body.toString(entry.encoding);
  }
  return { texts: { ...texts }, ignored: [...ignored] };
}

/** Every text entry of the file, keyword -> text, within readPngText's caps. */
export function readTextChunks(png: Buffer): Record<string, string> {
  return readPngText(png).texts;
}

interface TextEntry {
  keyword: string;
  compressed: boolean;
  body: Buffer;
  encoding: 'latin1' | 'utf8';
}

function splitAtNul(data: Buffer, from = 0): [Buffer, number] {
  const nul = data.indexOf(0, from);
  if (nul < 0) throw new Error('missing separator');
  return [data.subarray(from, nul), nul + 1];
}

/** A text chunk's keyword and its body, still compressed where the chunk says so. */
function splitTextChunk(type: string, data: Buffer): TextEntry {
  const [keywordBytes, afterKeyword] = splitAtNul(data);
  const keyword = keywordBytes.toString('latin1');
  if (type === 'tEXt') return { keyword, compressed: false, body: data.subarray(afterKeyword), encoding: 'latin1' };
  if (type === 'zTXt') return { keyword, compressed: true, body: data.subarray(afterKeyword + 1), encoding: 'latin1' };
  // iTXt: compression flag, method, language \0, translated keyword \0, UTF-8 text
  const compressed = data[afterKeyword] === 1;
  const [, afterLanguage] = splitAtNul(data, afterKeyword + 2);
  const [, afterTranslated] = splitAtNul(data, afterLanguage);
  return { keyword, compressed, body: data.subarray(afterTranslated), encoding: 'utf8' };
}

/** One chunk: length, type, data and the CRC over type and data. */
export function makeChunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])) >>> 0, 0);
  return Buffer.concat([head, data, crc]);
}

/** Text entries as chunks: tEXt when the text is Latin-1, iTXt (UTF-8) otherwise. */
export function textChunks(entries: Record<string, string>): Buffer[] {
  return Object.entries(entries).map(([keyword, text]) => {
    if (!/^[\x20-\x7e\xa1-\xff]{1,79}$/.test(keyword)) throw new Error(`invalid PNG text keyword "${keyword}"`);
    const key = Buffer.from(keyword, 'latin1');
    // eslint-disable-next-line no-control-regex -- any Latin-1 text, control characters included, fits a tEXt chunk
    if (/^[\x00-\xff]*$/.test(text)) return makeChunk('tEXt', Buffer.concat([key, Buffer.from([0]), Buffer.from(text, 'latin1')]));
    // keyword \0, compression flag 0, method 0, empty language \0, empty translated keyword \0, UTF-8 text
    return makeChunk('iTXt', Buffer.concat([key, Buffer.from([0, 0, 0, 0, 0]), Buffer.from(text, 'utf8')]));
  });
}

/** Adds text entries right after IHDR (see textChunks). */
export function addTextChunks(png: Buffer, entries: Record<string, string>): Buffer {
  const first = chunks(png).next().value as Chunk | undefined;
  if (!first || first.type !== 'IHDR') throw new Error('PNG does not start with IHDR');
  return Buffer.concat([png.subarray(0, first.end), ...textChunks(entries), png.subarray(first.end)]);
}
