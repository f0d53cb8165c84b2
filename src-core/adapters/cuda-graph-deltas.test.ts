// A LoRA's change moved into the CUDA graph's layouts must equal the importer laying out the changed weight itself:
// onnx/cuda-layers.ts's channelsLastKernel and packedHeadsWeight (whose graphs match diffusers' UNet in
// tests/import-cuda-graph.test.ts) applied to W + change, against the same functions on W plus the placed change.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import onnxProto from 'onnx-proto';
import { channelsLastKernel, packedHeadsWeight } from '../onnx/cuda-layers.ts';
import type { WeightRef } from '../import/weights.ts';
import { placeOnCudaGraph } from './cuda-graph-deltas.ts';
import type { ComponentWeights, LowRankDelta } from './onnx-patch.ts';

const { onnx } = onnxProto;

function random(n: number, seed: number): Float32Array {
  let s = seed;
  return Float32Array.from({ length: n }, () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 2 - 1);
}

const ref = (shape: number[], values: Float32Array): WeightRef => ({ shape, read: () => values });

/** A @ B for factors [rows, rank] x [rank, cols]. */
function product(d: Pick<LowRankDelta, 'rows' | 'cols' | 'rank' | 'a' | 'b'>): Float32Array {
  const out = new Float32Array(d.rows * d.cols);
  for (let i = 0; i < d.rows; i++)
    for (let r = 0; r < d.rank; r++) for (let j = 0; j < d.cols; j++) out[i * d.cols + j] += d.a[i * d.rank + r] * d.b[r * d.cols + j];
  return out;
}

/** m [rows, cols] as [cols, rows]. */
const transpose = (m: Float32Array, rows: number, cols: number) =>
  Float32Array.from({ length: m.length }, (_, k) => m[(k % rows) * cols + Math.floor(k / rows)]);
const add = (a: Float32Array, b: Float32Array) => Float32Array.from(a, (v, i) => v + b[i]);

function assertClose(actual: Float32Array, expected: Float32Array): void {
  assert.equal(actual.length, expected.length);
  const worst = actual.reduce((m, v, i) => Math.max(m, Math.abs(v - expected[i])), 0);
  assert.ok(worst < 1e-6, `largest difference ${worst}`);
}

/** A graph whose packed matrix's product is reshaped to [B, S, heads, parts, d], as cuda-layers.ts's packedProjection does. */
function packedGraph(name: string, heads: number, parts: number, withReshape = true) {
  const shape = onnx.TensorProto.create({
    name: 'shape',
    dims: [5],
    dataType: onnx.TensorProto.DataType.INT64,
    rawData: new Uint8Array(BigInt64Array.from([0n, 0n, BigInt(heads), BigInt(parts), -1n]).buffer),
  });
  const node = [onnx.NodeProto.create({ opType: 'MatMul', input: ['x', name], output: ['p'] })];
  if (withReshape) node.push(onnx.NodeProto.create({ opType: 'Reshape', input: ['p', 'shape'], output: ['r'] }));
  return onnx.ModelProto.create({ graph: { node, initializer: [shape] } });
}

function weightsOf(entries: Array<[string, number[]]>): ComponentWeights {
  return { dims: new Map(entries), float: new Map(entries.map(([name]) => [name, 'float32' as const])) };
}

test("changes of q and v land in their heads' columns of the packed matrix, joined into one change", () => {
  const heads = 2,
    inp = 3,
    out = 4,
    rank = 2;
  const w = [0, 1, 2].map((p) => random(out * inp, 10 + p)); // torch [out, in]
  const prefix = 'mid.attn1';
  const delta = (p: string, seed: number): LowRankDelta => ({
    initializer: `${prefix}.to_${p}.weight.T`,
    rows: inp,
    cols: out,
    rank,
    a: random(inp * rank, seed),
    b: random(rank * out, seed + 1),
  });
  const dq = delta('q', 20),
    dv = delta('v', 30);
  const packed = `${prefix}.to_qkv`;
  const placed = placeOnCudaGraph([dq, dv], weightsOf([[packed, [inp, 3 * out]]]), packedGraph(packed, heads, 3));
  assert.equal(placed.length, 1);
  assert.deepEqual([placed[0].initializer, placed[0].rows, placed[0].cols, placed[0].rank], [packed, inp, 3 * out, 2 * rank]);
  // The change stored [in, out] is the torch weight's [out, in] change transposed.
  const changed = [add(w[0], transpose(product(dq), inp, out)), w[1], add(w[2], transpose(product(dv), inp, out))];
  const expected = packedHeadsWeight(
    changed.map((v) => ref([out, inp], v)),
    heads,
  ).read();
  const base = packedHeadsWeight(
    w.map((v) => ref([out, inp], v)),
    heads,
  ).read();
  assertClose(add(base, product(placed[0])), expected);
});

test("cross-attention's k and v land in the packed k|v matrix; its q keeps its own weight", () => {
  const heads = 3,
    inp = 5,
    out = 6,
    rank = 1;
  const prefix = 'up.attn2';
  const dk: LowRankDelta = { initializer: `${prefix}.to_k.weight.T`, rows: inp, cols: out, rank, a: random(inp, 1), b: random(out, 2) };
  const dq: LowRankDelta = { initializer: `${prefix}.to_q.weight.T`, rows: inp, cols: out, rank, a: random(inp, 3), b: random(out, 4) };
  const packed = `${prefix}.to_kv`;
  const weights = weightsOf([
    [packed, [inp, 2 * out]],
    [dq.initializer, [inp, out]],
  ]);
  const placed = placeOnCudaGraph([dk, dq], weights, packedGraph(packed, heads, 2));
  assert.equal(
    placed.find((d) => d.initializer === dq.initializer),
    dq,
  );
  const kv = placed.find((d) => d.initializer === packed)!;
  const wk = random(out * inp, 5),
    wv = random(out * inp, 6);
  const expected = packedHeadsWeight([ref([out, inp], add(wk, transpose(product(dk), inp, out))), ref([out, inp], wv)], heads).read();
  const base = packedHeadsWeight([ref([out, inp], wk), ref([out, inp], wv)], heads).read();
  assertClose(add(base, product(kv)), expected);
});

test("a conv kernel's change is laid out channels-last for NhwcConv's kernel", () => {
  const [m, c, kh, kw] = [4, 3, 3, 2],
    rank = 2;
  const delta: LowRankDelta = {
    initializer: 'down.conv1.weight',
    rows: m,
    cols: c * kh * kw,
    rank,
    a: random(m * rank, 7),
    b: random(rank * c * kh * kw, 8),
  };
  const placed = placeOnCudaGraph([delta], weightsOf([['down.conv1.weight.nhwc', [m, kh, kw, c]]]), packedGraph('none', 1, 1));
  assert.equal(placed[0].initializer, 'down.conv1.weight.nhwc');
  const w = random(m * c * kh * kw, 9);
  const expected = channelsLastKernel(ref([m, c, kh, kw], add(w, product(delta)))).read();
  assertClose(add(channelsLastKernel(ref([m, c, kh, kw], w)).read(), product(placed[0])), expected);
});

test('a weight the CUDA graph does not hold, or a packed matrix not split into heads, is refused', () => {
  const delta = (initializer: string): LowRankDelta => ({ initializer, rows: 2, cols: 2, rank: 1, a: random(2, 1), b: random(2, 2) });
  assert.throws(() => placeOnCudaGraph([delta('x.proj.weight.T')], weightsOf([]), packedGraph('none', 1, 1)), {
    message: 'the CUDA graph holds no weight for x.proj.weight.T',
  });
  const packed = 'b.attn1.to_qkv';
  assert.throws(
    () => placeOnCudaGraph([delta('b.attn1.to_q.weight.T')], weightsOf([[packed, [2, 6]]]), packedGraph(packed, 1, 3, false)),
    /does not split b\.attn1\.to_qkv's product into heads/,
  );
  assert.throws(
    () => placeOnCudaGraph([delta('b.attn1.to_q.weight.T')], weightsOf([[packed, [2, 6]]]), packedGraph(packed, 3, 3)),
    /2 columns do not split into 3 heads/,
  );
});
