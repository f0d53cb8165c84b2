import { test } from 'node:test';
import assert from 'node:assert/strict';
import { transposeBlock } from './transpose.ts';

test('a block is written transposed at its offset and strides, across tile edges, and nothing else is touched', () => {
  for (const [rows, cols] of [
    [1, 1],
    [37, 70],
    [64, 32],
    [3, 100],
  ]) {
    const srcStride = cols + 5,
      dstStride = rows + 3,
      srcOffset = 7,
      dstOffset = 11;
    const src = Float32Array.from({ length: srcOffset + rows * srcStride }, (_, i) => i + 0.5);
    const dst = new Float32Array(dstOffset + cols * dstStride).fill(-1);
    transposeBlock(src, srcOffset, srcStride, rows, cols, dst, dstOffset, dstStride);
    const expected = new Float32Array(dst.length).fill(-1);
    for (let r = 0; r < rows; r++)
      for (let c = 0; c < cols; c++) expected[dstOffset + c * dstStride + r] = src[srcOffset + r * srcStride + c];
    assert.deepEqual(dst, expected, `${rows} x ${cols}`);
  }
});
