// Just enough PNG for the UI: recognise a PNG by its signature, and build a 1x1 PNG that carries
// a "parameters" text (iTXt, UTF-8) so png.read can parse parameters the UI already has as text
// (a gallery entry whose file cannot be fetched, e.g. under a custom protocol); text chunks added to an
// exported PNG (the Compare grid's prompt, seed and model) and read back.

const SIGNATURE = [137, 80, 78, 71, 13, 10, 26, 10];

export function isPng(bytes: Uint8Array): boolean {
  return bytes.length >= 8 && SIGNATURE.every((b, i) => bytes[i] === b);
}

let crcTable: Uint32Array | null = null;

export function crc32(bytes: Uint8Array): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let crc = 0xffffffff;
  for (const b of bytes) crc = crcTable[(crc ^ b) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

/** A valid 1x1 grey PNG whose iTXt chunk "parameters" holds `text`. */
export function parametersPng(text: string): Uint8Array {
  const ihdr = new Uint8Array(13);
  const v = new DataView(ihdr.buffer);
  v.setUint32(0, 1);
  v.setUint32(4, 1);
  ihdr.set([8, 0, 0, 0, 0], 8); // 8-bit greyscale, deflate, no filter, no interlace
  // keyword \0 compression-flag compression-method language \0 translated-keyword \0 text
  const itxt = concat([new TextEncoder().encode('parameters'), new Uint8Array([0, 0, 0, 0, 0]), new TextEncoder().encode(text)]);
  // zlib stream of one stored block holding the scanline [filter 0, pixel 128].
  const idat = new Uint8Array([0x78, 0x01, 0x01, 0x02, 0x00, 0xfd, 0xff, 0x00, 0x80, 0x00, 0x82, 0x00, 0x81]);
  return concat([
    new Uint8Array(SIGNATURE),
    chunk('IHDR', ihdr),
    chunk('iTXt', itxt),
    chunk('IDAT', idat),
    chunk('IEND', new Uint8Array(0)),
  ]);
}

interface Chunk {
  type: string;
  data: Uint8Array;
}

function chunksOf(png: Uint8Array): Chunk[] {
  if (!isPng(png)) throw new Error('not a PNG');
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  const out: Chunk[] = [];
  for (let at = 8; at + 12 <= png.length;) {
    const length = view.getUint32(at);
    const type = String.fromCharCode(...png.subarray(at + 4, at + 8));
    out.push({ type, data: png.subarray(at + 8, at + 8 + length) });
    at += 12 + length;
  }
  return out;
}

function itxt(keyword: string, text: string): Uint8Array {
  const encoder = new TextEncoder();
  return chunk('iTXt', concat([encoder.encode(keyword), new Uint8Array([0, 0, 0, 0, 0]), encoder.encode(text)]));
}

/** The PNG with UTF-8 text chunks (iTXt) after its header; text chunks with the same keywords are replaced. */
export function withTextChunks(png: Uint8Array, texts: Record<string, string>): Uint8Array {
  const replaced = new Set(Object.keys(texts));
  const parts: Uint8Array[] = [new Uint8Array(SIGNATURE)];
  for (const c of chunksOf(png)) {
    if (['tEXt', 'iTXt', 'zTXt'].includes(c.type) && replaced.has(keywordOf(c.data))) continue;
    parts.push(chunk(c.type, c.data));
    if (c.type === 'IHDR') for (const [keyword, text] of Object.entries(texts)) parts.push(itxt(keyword, text));
  }
  return concat(parts);
}

function keywordOf(data: Uint8Array): string {
  const end = data.indexOf(0);
  return new TextDecoder('latin1').decode(data.subarray(0, end === -1 ? data.length : end));
}

/** The uncompressed text chunks (tEXt, iTXt) as [keyword, text] pairs, in file order. */
export function pngTextChunks(png: Uint8Array): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const c of chunksOf(png)) {
    const keyword = keywordOf(c.data);
    if (c.type === 'tEXt') out.push([keyword, new TextDecoder('latin1').decode(c.data.subarray(keyword.length + 1))]);
    if (c.type === 'iTXt' && c.data[keyword.length + 1] === 0) {
      // keyword \0 flag method language \0 translated \0 text
      let at = keyword.length + 3;
      at = c.data.indexOf(0, at) + 1;
      at = c.data.indexOf(0, at) + 1;
      out.push([keyword, new TextDecoder().decode(c.data.subarray(at))]);
    }
  }
  return out;
}
