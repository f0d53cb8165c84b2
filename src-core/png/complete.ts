// Whether bytes are a whole PNG file: signature, IHDR first, every chunk inside the file with a
// correct CRC, at least one IDAT, and IEND last. A file cut short by a full disk or a crash fails.
import { crc32 } from 'node:zlib';

const SIGNATURE = Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]);

export function isCompletePng(png: Buffer): boolean {
  if (png.length < 8 || !png.subarray(0, 8).equals(SIGNATURE)) return false;
  let offset = 8;
  let sawData = false;
  for (let index = 0; offset + 12 <= png.length; index++) {
    const length = png.readUInt32BE(offset);
    const end = offset + 12 + length;
    if (end > png.length) return false;
    const typeAndData = png.subarray(offset + 4, offset + 8 + length);
    if ((crc32(typeAndData) >>> 0) !== png.readUInt32BE(offset + 8 + length)) return false;
    const type = png.toString('latin1', offset + 4, offset + 8);
    if (index === 0 && type !== 'IHDR') return false;
    if (type === 'IDAT') sawData = true;
    if (type === 'IEND') return sawData && end === png.length;
    offset = end;
  }
  return false;
}
