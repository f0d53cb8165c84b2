import { test } from 'node:test';
import assert from 'node:assert/strict';
import { crc32 as nodeCrc32 } from 'node:zlib';
import { decode } from 'fast-png';
import { readTextChunks } from '../../../src-core/png/text-chunks.ts';
import { crc32, isPng, parametersPng } from './png.ts';

test('crc32 agrees with zlib', () => {
  const bytes = new TextEncoder().encode('IEND and more');
  assert.equal(crc32(bytes), nodeCrc32(bytes) >>> 0);
});

test('the synthesized PNG is valid and carries UTF-8 parameters', () => {
  const text = 'un chat très mignon, 猫\nNegative prompt: blurry\nSteps: 20, Sampler: Euler, Seed: 5';
  const png = parametersPng(text);
  assert.ok(isPng(png));
  const image = decode(png);
  assert.equal(image.width, 1);
  assert.equal(image.height, 1);
  assert.equal(readTextChunks(Buffer.from(png)).parameters, text);
});

test('isPng looks at the signature', () => {
  assert.equal(isPng(new TextEncoder().encode('GIF89a......')), false);
  assert.equal(isPng(new Uint8Array(3)), false);
});
