// node --import tsx reports/gpu-bench/layout-transposes-ab.ts [ROUNDS]
// The importer's weight layouts (onnx/layers.ts transposedWeight, onnx/cuda-layers.ts packedHeadsWeight) against the
// row-by-row loops they had before onnx/transpose.ts, in one process, in turn, each into a reused scratch as
// writeModel does. SD 1.5's shapes: a 1280 x 1280 Linear, the 1280-channel GEGLU projection, and self-attention's q, k,
// v packed for 8 heads. (A conv kernel's channels-last layout kept its loop: each output channel's block fits the
// cache, and tiles made it about 5% slower.) Prints the median ns per element of the rounds after the first.
import { Scratch, type WeightRef } from '../../src-core/import/weights.ts';
import { channelsLastKernel, packedHeadsWeight } from '../../src-core/onnx/cuda-layers.ts';
import { transposedWeight } from '../../src-core/onnx/layers.ts';
import { median } from '../../src-core/experiments/stats.ts';

const ref = (shape: number[], values: Float32Array): WeightRef => ({ shape, read: () => values });

// The loops as they were (the same indexing, one element at a time over the whole matrix).
function rowByRowTranspose(source: Float32Array, rows: number, cols: number, out: Float32Array): void {
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = source[r * cols + c];
}
function rowByRowPacked(sources: Float32Array[], [out, inp]: number[], heads: number, result: Float32Array): void {
  const d = out / heads,
    parts = sources.length;
  sources.forEach((source, p) => {
    for (let n = 0; n < heads; n++)
      for (let i = 0; i < d; i++) {
        const column = (n * parts + p) * d + i,
          row = (n * d + i) * inp;
        for (let k = 0; k < inp; k++) result[k * out * parts + column] = source[row + k];
      }
  });
}

const rounds = Number(process.argv[2] ?? 12);
const geglu = Float32Array.from({ length: 10240 * 1280 }, (_, i) => (i % 13) - 6);
const linear = Float32Array.from({ length: 1280 * 1280 }, (_, i) => (i % 11) - 5);
const scratch = new Scratch();
const cases: Array<{ name: string; elements: number; now: () => void; before: () => void }> = [
  {
    name: 'Linear 1280x1280 -> transposed',
    elements: linear.length,
    now: () => transposedWeight(ref([1280, 1280], linear)).read(scratch),
    before: () => rowByRowTranspose(linear, 1280, 1280, scratch.floats(linear.length)),
  },
  {
    name: 'Linear 10240x1280 (GEGLU) -> transposed',
    elements: geglu.length,
    now: () => transposedWeight(ref([10240, 1280], geglu)).read(scratch),
    before: () => rowByRowTranspose(geglu, 10240, 1280, scratch.floats(geglu.length)),
  },
  {
    name: 'q, k, v 1280x1280 -> packed, 8 heads',
    elements: 3 * linear.length,
    now: () =>
      packedHeadsWeight(
        [0, 1, 2].map(() => ref([1280, 1280], linear)),
        8,
      ).read(scratch),
    before: () => rowByRowPacked([linear, linear, linear], [1280, 1280], 8, scratch.floats(3 * linear.length)),
  },
];
for (const c of cases) {
  const times = { now: [] as number[], before: [] as number[] };
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? (['now', 'before'] as const) : (['before', 'now'] as const);
    for (const way of order) {
      scratch.reset();
      const start = performance.now();
      c[way]();
      if (round > 0) times[way].push(((performance.now() - start) * 1e6) / c.elements);
    }
  }
  console.log(`${c.name}: tiles ${median(times.now).toFixed(2)}, row by row ${median(times.before).toFixed(2)} ns per element`);
}
