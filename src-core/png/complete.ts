// Whether bytes are a whole PNG file: signature, IHDR first, every chunk inside the file with a
// correct CRC, at least one IDAT, and IEND last. A file cut short by a full disk or a crash fails.
import { crc32 } from 'node:zlib';
import { chunks } from './text-chunks.ts';

export function isCompletePng(png: Buffer): boolean {
  let index = 0;
  let sawData = false;
  try {
    for (const { type, start, end } of chunks(png)) {
      // The CRC covers the type and the data: from after the length to before the CRC itself.
      if (crc32(png.subarray(start + 4, end - 4)) >>> 0 !== png.readUInt32BE(end - 4)) return false;
      if (index++ === 0 && type !== 'IHDR') return false;
      if (type === 'IDAT') sawData = true;
      if (type === 'IEND') return sawData && end === png.length;
    }
  } catch {
    return false; // not a PNG, or a chunk runs past the end of the file
  }
  return false;
}
