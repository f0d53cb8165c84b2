import { test } from 'node:test';
import assert from 'node:assert/strict';
import { toPngRows, toRgba } from './pixels.ts';

test("PNG rows are toRgba's bytes, each row after a filter byte 0", async () => {
  const width = 3,
    height = 2;
  const image = Float32Array.from({ length: 3 * width * height }, (_, i) => -1.2 + i * 0.14);
  const rgba = toRgba(image, width, height);
  // Pixel 0 reads -1.2, -0.36 and 0.48 from the three planes: 0, round(0.32 * 255) = 82, round(0.74 * 255) = 189.
  assert.deepEqual([...rgba.subarray(0, 4)], [0, 82, 189, 255]);
  const rows = toPngRows(image, width, height);
  assert.deepEqual([...rows], [0, ...rgba.subarray(0, 12), 0, ...rgba.subarray(12)]);
});
