// Matrix transposes for the importer's weight layouts (a Linear's [out, in] stored as [in, out], NhwcConv's
// channels-last kernels, packed attention projections). Done tile by tile: a plain row-by-row loop writes (or reads)
// one element per cache line across a whole matrix of megabytes, which made these loops a third of an import's time.

import type { WeightValues } from '../import/weights.ts';

const TILE = 32;

/**
 * dst[dstOffset + c * dstStride + r] = src[srcOffset + r * srcStride + c] for r < rows, c < cols: the rows x cols
 * block of `src` (row stride srcStride) written transposed into `dst` (row stride dstStride).
 */
export function transposeBlock<T extends WeightValues>(
  src: T,
  srcOffset: number,
  srcStride: number,
  rows: number,
  cols: number,
  dst: T,
  dstOffset: number,
  dstStride: number,
): void {
  for (let r0 = 0; r0 < rows; r0 += TILE) {
    const r1 = Math.min(r0 + TILE, rows);
    for (let c0 = 0; c0 < cols; c0 += TILE) {
      const c1 = Math.min(c0 + TILE, cols);
      for (let c = c0; c < c1; c++) {
        const to = dstOffset + c * dstStride;
        for (let r = r0; r < r1; r++) dst[to + r] = src[srcOffset + r * srcStride + c];
      }
    }
  }
}
