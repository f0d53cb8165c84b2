import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decode } from 'fast-png';
import { inflateSync, deflateSync } from 'node:zlib';
import { encodeRgbaPng } from './encode.ts';
import { adler32 } from './adler32.ts';
import { isCompletePng } from './complete.ts';
import { readTextChunks } from './text-chunks.ts';

test('an RGBA image encodes to a complete PNG that decodes to the same pixels and carries its text', async () => {
  const width = 37,
    height = 5;
  const rgba = Uint8Array.from({ length: width * height * 4 }, (_, i) => (i * 7919) % 256);
  const png = await encodeRgbaPng(rgba, width, height, { parameters: 'a red circle\nSteps: 20, Seed: 1', note: 'café' });
  assert.ok(isCompletePng(png));
  const image = decode(png);
  assert.deepEqual([image.width, image.height, image.channels, image.depth], [width, height, 4, 8]);
  assert.deepEqual(image.data, rgba);
  assert.deepEqual(readTextChunks(png), { parameters: 'a red circle\nSteps: 20, Seed: 1', note: 'café' });
});

test('pixels that do not fill the size are refused', async () => {
  await assert.rejects(encodeRgbaPng(new Uint8Array(15), 2, 2), /15 bytes are not 2 x 2 RGBA pixels/);
});

/** The zlib stream of a PNG's IDAT chunks. */
function idat(png: Buffer): Buffer {
  const parts: Buffer[] = [];
  for (let at = 8; at < png.length;) {
    const length = png.readUInt32BE(at);
    if (png.toString('latin1', at + 4, at + 8) === 'IDAT') parts.push(png.subarray(at + 8, at + 8 + length));
    at += 12 + length;
  }
  return Buffer.concat(parts);
}

test('a large image is deflated in pieces that make one zlib stream, about as small as one deflate makes it', async () => {
  const width = 600,
    height = 400; // 960 KB of scanlines: four pieces
  const rgba = Uint8Array.from({ length: width * height * 4 }, (_, i) => (i % 4 === 3 ? 255 : 128 + 100 * Math.sin(i / 977) + (i % 7)));
  const png = await encodeRgbaPng(rgba, width, height, { parameters: 'pieces' });
  assert.deepEqual(decode(png).data, rgba, 'fast-png reads the pixels back');
  const stream = idat(png);
  const rows = Buffer.alloc(height * (width * 4 + 1));
  for (let y = 0; y < height; y++) rows.set(rgba.subarray(y * width * 4, (y + 1) * width * 4), y * (width * 4 + 1) + 1);
  assert.deepEqual(inflateSync(stream), rows, "zlib's inflate, which checks the Adler-32, gives the scanlines");
  // each piece but the last ends with a sync flush: an empty stored block, 00 00 FF FF
  const flushes = stream.toString('latin1').split('\x00\x00\xff\xff').length - 1;
  assert.equal(flushes, 3);
  const whole = deflateSync(rows, { level: 3 }).length;
  assert.ok(Math.abs(stream.length - whole) < 0.01 * whole, `${stream.length} bytes against ${whole} in one deflate`);
});

test("Adler-32 is zlib's, past its 5552-byte runs and with every byte at 255", () => {
  const cases = [
    Buffer.alloc(0),
    Buffer.from('Wikipedia'),
    Buffer.alloc(100_000, 255),
    Buffer.from(Uint8Array.from({ length: 70_001 }, (_, i) => (i * 7919) % 256)),
  ];
  for (const bytes of cases) {
    const zlib = deflateSync(bytes);
    assert.equal(adler32(bytes), zlib.readUInt32BE(zlib.length - 4), `${bytes.length} bytes`);
  }
  assert.equal(adler32(Buffer.from('Wikipedia')), 0x11e60398);
});
