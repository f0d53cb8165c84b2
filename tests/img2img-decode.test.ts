// img2img's input decoding (issue 23): PNG of every kind, JPEG and WebP against what Pillow decodes (files
// and expectations made by tests/fixtures/img2img/make_inputs.py), transparency flattened onto white as
// A1111 does, and refusals: files that are not images, damaged or cut-short files, oversized images refused
// from their header alone (before any pixel is decoded).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decode as decodePng, encode as encodePng } from 'fast-png';
import { decodeInputImage } from '../src-core/image/decode.ts';
import { ImageInputError, readImageHeader } from '../src-core/image/header.ts';
import { fitImage, lanczosResize } from '../src-core/image/resize.ts';
import { INPUT_IMAGE_LIMITS } from '../src-core/contract/images.ts';

const DIR = join(import.meta.dirname, 'fixtures', 'img2img');
const input = (name: string) => new Uint8Array(readFileSync(join(DIR, 'inputs', name)));

function expected(name: string): Uint8Array {
  const png = decodePng(readFileSync(join(DIR, 'expected', `${name}.png`)));
  assert.equal(png.channels, 3);
  return png.data as Uint8Array;
}

function differences(a: Uint8Array, b: Uint8Array): { max: number; mean: number } {
  assert.equal(a.length, b.length);
  let max = 0,
    sum = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    max = Math.max(max, d);
    sum += d;
  }
  return { max, mean: sum / a.length };
}

/** tolerance: on every pixel; mean: on average only (colour upsampling differs at sharp colour edges). */
interface DecodeCase {
  file: string;
  expect: string;
  format: string;
  tolerance?: number;
  mean?: number;
  note?: RegExp;
  /** EXIF orientation 5-8: the upright image is 32x48. */
  turned?: boolean;
}

const CASES: DecodeCase[] = [
  { file: 'rgb8.png', expect: 'rgb8', format: 'png', tolerance: 0 },
  { file: 'rgba8.png', expect: 'rgba8', format: 'png', tolerance: 0, note: /flattened onto white/ },
  { file: 'palette-trns.png', expect: 'palette-trns', format: 'png', tolerance: 0, note: /flattened onto white/ },
  { file: 'grey1.png', expect: 'grey1', format: 'png', tolerance: 0 },
  { file: 'rgb16.png', expect: 'rgb16', format: 'png', tolerance: 0, note: /16-bit/ },
  { file: 'greyalpha16.png', expect: 'greyalpha16', format: 'png', tolerance: 0, note: /16-bit/ },
  // Different IDCTs (jpeg-js vs libjpeg) and YUV conversions: a few levels apart.
  { file: 'photo.jpg', expect: 'photo', format: 'jpeg', tolerance: 4 },
  // 4:2:0: jpeg-js upsamples colour by repetition, libjpeg interpolates ("fancy upsampling").
  { file: 'photo-420.jpg', expect: 'photo-420', format: 'jpeg', mean: 4 },
  { file: 'lossy.webp', expect: 'lossy', format: 'webp', tolerance: 3 },
  { file: 'lossless-alpha.webp', expect: 'lossless-alpha', format: 'webp', tolerance: 0, note: /flattened onto white/ },
  // EXIF orientation 2-8 (phone photos): turned upright as Pillow's exif_transpose (and browsers) do.
  ...[2, 3, 4, 5, 6, 7, 8].map((o) => ({
    file: `oriented-${o}.jpg`,
    expect: `oriented-${o}`,
    format: 'jpeg',
    tolerance: 4,
    turned: o >= 5,
    note: /EXIF orientation/,
  })),
  { file: 'oriented-6.png', expect: 'oriented-6-png', format: 'png', tolerance: 0, turned: true, note: /EXIF orientation \(6\)/ },
  { file: 'oriented-6.webp', expect: 'oriented-6-webp', format: 'webp', tolerance: 0, turned: true, note: /EXIF orientation \(6\)/ },
];

for (const c of CASES) {
  const within = c.tolerance !== undefined ? `within ${c.tolerance}/255` : `within ${c.mean}/255 on average`;
  test(`decodes ${c.file} as Pillow does (${within})`, async () => {
    const image = await decodeInputImage(input(c.file));
    assert.equal(image.format, c.format);
    assert.deepEqual([image.width, image.height], c.turned ? [32, 48] : [48, 32]);
    const { max, mean } = differences(image.data, expected(c.expect));
    if (c.tolerance !== undefined) assert.ok(max <= c.tolerance, `max difference ${max}/255`);
    if (c.mean !== undefined) assert.ok(mean <= c.mean, `mean difference ${mean.toFixed(2)}/255`);
    if (c.note)
      assert.ok(
        image.notes.some((n) => c.note!.test(n)),
        image.notes.join('; '),
      );
    else assert.deepEqual(image.notes, []);
  });
}

test('files that are not PNG, JPEG or WebP are refused in words', async () => {
  const cases: Array<[Uint8Array, RegExp]> = [
    [new Uint8Array(0), /the file is empty/],
    [new TextEncoder().encode('hello, this is a text file'), /not an image; PNG, JPEG and WebP images are accepted/],
    [new TextEncoder().encode('<svg xmlns="http://www.w3.org/2000/svg"/>'), /text or SVG\/HTML file/],
    [new TextEncoder().encode('GIF89a\x01\x00\x01\x00'), /a GIF image/],
    [new TextEncoder().encode('%PDF-1.7\n'), /a PDF document/],
    [input('rgb8.png').subarray(0, 20), /PNG file is cut short/],
    [input('photo.jpg').subarray(0, 40), /JPEG file has no frame header/],
  ];
  for (const [bytes, message] of cases) {
    await assert.rejects(decodeInputImage(bytes), (e: Error) => e instanceof ImageInputError && message.test(e.message), message.source);
  }
  // A PNG whose pixel data is damaged: the header reads, the decoder refuses.
  const damaged = input('rgb8.png').slice();
  damaged.fill(0x55, 41, damaged.length - 12);
  await assert.rejects(decodeInputImage(damaged), /PNG file cannot be decoded/);
  // A WebP cut short after its header.
  await assert.rejects(decodeInputImage(input('lossy.webp').subarray(0, 100)), /WebP file cannot be decoded/);
});

test('huge images are refused from their header, before decoding (the stated limit)', async () => {
  // A PNG that claims 20000x20000 pixels but carries only a header: refused without reading pixels.
  const png = input('rgb8.png').slice(0, 33);
  new DataView(png.buffer).setUint32(16, 20_000);
  new DataView(png.buffer).setUint32(20, 20_000);
  assert.throws(() => readImageHeader(png), /20000x20000 \(400\.0 megapixels\); at most 40 megapixels and 16384 pixels a side/);
  await assert.rejects(decodeInputImage(png), /at most 40 megapixels/);
  // Within the side limit but over the pixel count: 8000x6000.
  new DataView(png.buffer).setUint32(16, 8000);
  new DataView(png.buffer).setUint32(20, 6000);
  assert.throws(() => readImageHeader(png), /48\.0 megapixels/);
  // JPEG: the frame header's size alone decides (16384 x 4000 = 65.5 MP).
  const jpeg = input('photo.jpg').slice();
  const sof = jpeg.findIndex((b, i) => b === 0xff && jpeg[i + 1] === 0xc0);
  jpeg[sof + 5] = 4000 >> 8;
  jpeg[sof + 6] = 4000 & 255;
  jpeg[sof + 7] = 16384 >> 8;
  jpeg[sof + 8] = 0;
  assert.throws(() => readImageHeader(jpeg), /16384x4000/);
  // WebP (lossy VP8): 16383 x 16383.
  const webp = input('lossy.webp').slice();
  webp[26] = 0xff;
  webp[27] = 0x3f;
  webp[28] = 0xff;
  webp[29] = 0x3f;
  assert.throws(() => readImageHeader(webp), /16383x16383/);
  // Files over the byte limit are refused before anything else.
  assert.throws(() => readImageHeader(new Uint8Array(INPUT_IMAGE_LIMITS.bytes + 1)), /MiB; at most 32 MiB/);
});

test('Lanczos resize keeps flat colour flat and follows a ramp; resize modes place the image as A1111 does', () => {
  const flat = { width: 10, height: 6, data: new Uint8Array(10 * 6 * 3).fill(77) };
  for (const [w, h] of [
    [23, 17],
    [4, 3],
    [10, 6],
  ])
    assert.ok(lanczosResize(flat, w, h).data.every((v) => v === 77));
  // Upscaling a horizontal ramp keeps it monotonic away from the borders.
  const ramp = { width: 16, height: 1, data: Uint8Array.from({ length: 48 }, (_, i) => Math.floor(i / 3) * 16) };
  const up = lanczosResize(ramp, 64, 1);
  for (let x = 8; x < 56; x++) assert.ok(up.data[(x + 1) * 3] >= up.data[x * 3], `x ${x}`);
  // A 2:1 image into a square: crop keeps the middle, fill pads with the edge rows.
  const wide = { width: 8, height: 4, data: new Uint8Array(8 * 4 * 3) };
  for (let y = 0; y < 4; y++) for (let x = 0; x < 8; x++) wide.data.fill(x < 4 ? 50 : 200, (y * 8 + x) * 3, (y * 8 + x) * 3 + 3);
  const cropped = fitImage(wide, 4, 4, 'crop-and-resize');
  assert.deepEqual([cropped.width, cropped.height], [4, 4]);
  assert.ok(cropped.data[0] < 100 && cropped.data[3 * 3] > 150, 'the middle columns, left half dark and right half light');
  const filled = fitImage(wide, 8, 8, 'resize-and-fill');
  // Rows 0-1 and 6-7 are copies of the scaled image's first and last rows.
  const row = (y: number) => Array.from(filled.data.subarray(y * 24, y * 24 + 24));
  assert.deepEqual(row(0), row(2));
  assert.deepEqual(row(7), row(5));
  const stretched = fitImage(wide, 4, 8, 'just-resize');
  assert.deepEqual([stretched.width, stretched.height], [4, 8]);
});

test('encoded 16-bit grey PNGs without alpha decode as grey (no saturation to white)', async () => {
  const data = new Uint16Array([0, 65535, 32768, 257]);
  const png = encodePng({ width: 2, height: 2, data, depth: 16, channels: 1 });
  const image = await decodeInputImage(png);
  assert.deepEqual(Array.from(image.data), [0, 0, 0, 255, 255, 255, 128, 128, 128, 1, 1, 1]);
});
