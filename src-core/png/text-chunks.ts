// PNG text chunks (tEXt, zTXt, iTXt): reading all three, writing tEXt or iTXt. The pixel data is
// left to fast-png; this only walks and splices the chunk list (PNG spec, section 11.3.4).
import { crc32, inflateSync } from 'node:zlib';

const SIGNATURE = Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]);

interface Chunk { type: string; data: Buffer; start: number; end: number }

function* chunks(png: Buffer): Generator<Chunk> {
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

/** Every text entry of the file, keyword -> text (the first one wins for a repeated keyword). */
export function readTextChunks(png: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  for (const { type, data } of chunks(png)) {
    let entry: [string, string] | undefined;
    try {
      if (type === 'tEXt') entry = readTEXt(data);
      else if (type === 'zTXt') entry = readZTXt(data);
      else if (type === 'iTXt') entry = readITXt(data);
    } catch {
      entry = undefined; // a damaged text chunk does not make the image unreadable
    }
    if (entry && !(entry[0] in out)) out[entry[0]] = entry[1];
  }
  return out;
}

function splitAtNul(data: Buffer, from = 0): [Buffer, number] {
  const nul = data.indexOf(0, from);
  if (nul < 0) throw new Error('missing separator');
  return [data.subarray(from, nul), nul + 1];
}

function readTEXt(data: Buffer): [string, string] {
  const [keyword, rest] = splitAtNul(data);
  return [keyword.toString('latin1'), data.subarray(rest).toString('latin1')];
}

function readZTXt(data: Buffer): [string, string] {
  const [keyword, rest] = splitAtNul(data);
  return [keyword.toString('latin1'), inflateSync(data.subarray(rest + 1)).toString('latin1')];
}

function readITXt(data: Buffer): [string, string] {
  const [keyword, afterKeyword] = splitAtNul(data);
  const compressed = data[afterKeyword] === 1;
  const [, afterLanguage] = splitAtNul(data, afterKeyword + 2);
  const [, afterTranslated] = splitAtNul(data, afterLanguage);
  const body = data.subarray(afterTranslated);
  return [keyword.toString('latin1'), (compressed ? inflateSync(body) : body).toString('utf8')];
}

function makeChunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])) >>> 0, 0);
  return Buffer.concat([head, data, crc]);
}

/** Adds text entries right after IHDR: tEXt when the text is Latin-1, iTXt (UTF-8) otherwise. */
export function addTextChunks(png: Buffer, entries: Record<string, string>): Buffer {
  const first = chunks(png).next().value as Chunk | undefined;
  if (!first || first.type !== 'IHDR') throw new Error('PNG does not start with IHDR');
  const added = Object.entries(entries).map(([keyword, text]) => {
    if (!/^[\x20-\x7e\xa1-\xff]{1,79}$/.test(keyword)) throw new Error(`invalid PNG text keyword "${keyword}"`);
    const key = Buffer.from(keyword, 'latin1');
    if (/^[\x00-\xff]*$/.test(text)) return makeChunk('tEXt', Buffer.concat([key, Buffer.from([0]), Buffer.from(text, 'latin1')]));
    // keyword \0, compression flag 0, method 0, empty language \0, empty translated keyword \0, UTF-8 text
    return makeChunk('iTXt', Buffer.concat([key, Buffer.from([0, 0, 0, 0, 0]), Buffer.from(text, 'utf8')]));
  });
  return Buffer.concat([png.subarray(0, first.end), ...added, png.subarray(first.end)]);
}
