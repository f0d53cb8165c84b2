import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decode } from 'fast-png';
import { encodeRgbaPng } from './encode.ts';
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
