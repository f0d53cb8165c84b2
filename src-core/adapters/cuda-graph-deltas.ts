// LoRA changes for the importer's CUDA UNet graph (unet_cuda/, import/unet-cuda-blocks.ts). LoRA modules are
// matched against the portable graph (unet/), whose initializers carry diffusers' weight names. The CUDA graph keeps
// most weights under the same names and shapes, but holds conv kernels channels-last ("<conv>.weight.nhwc",
// [M, kH, kW, C], NhwcConv's) and packs attention's projections head by head into one matrix (self-attention's q, k,
// v as "<attn1>.to_qkv", cross-attention's k, v as "<attn2>.to_kv"). A change is moved into such a layout by
// rearranging its small factors, never the weight: B's columns are permuted for a channels-last kernel, or spread
// over one linear's columns of a packed matrix (zeros in the others'); the changes of one packed matrix are then
// joined along the rank, so each weight still changes once.
import onnxProto from 'onnx-proto';
import { channelsLastName, PACKED_PROJECTIONS } from '../onnx/cuda-layers.ts';
import { joinRanks, type LowRankFactors } from './lora-merge.ts';
import type { ComponentWeights, LowRankDelta } from './onnx-patch.ts';

const { onnx } = onnxProto;
type ModelProto = InstanceType<typeof onnx.ModelProto>;

/** The packed matrices and the linears they hold, in their order, with the portable graph's names of those linears. */
const PACKINGS = PACKED_PROJECTIONS.map(({ attention, packed, parts }) => ({
  pattern: new RegExp(`^(.+\\.${attention})\\.to_([${parts.join('')}])\\.weight\\.T$`),
  packed,
  parts: parts as readonly string[],
}));

/** The changes of the portable graph's weights as changes of the CUDA graph `model`'s; throws for a weight it does not hold. */
export function placeOnCudaGraph(deltas: readonly LowRankDelta[], weights: ComponentWeights, model: ModelProto): LowRankDelta[] {
  const placed: LowRankDelta[] = [];
  const packed = new Map<string, { heads: number; factors: LowRankFactors[] }>();
  for (const delta of deltas) {
    if (weights.dims.has(delta.initializer)) {
      placed.push(delta); // the same weight in the same layout (Linears, the time embedding)
      continue;
    }
    const kernel = weights.dims.get(channelsLastName(delta.initializer));
    if (kernel?.length === 4) {
      placed.push({ ...delta, initializer: channelsLastName(delta.initializer), b: channelsLastColumns(delta, kernel) });
      continue;
    }
    const packing = packedMatrixOf(delta.initializer);
    if (packing && weights.dims.has(packing.initializer)) {
      let matrix = packed.get(packing.initializer);
      if (!matrix) {
        matrix = { heads: packedHeadCount(model, packing.initializer, packing.parts), factors: [] };
        packed.set(packing.initializer, matrix);
      }
      matrix.factors.push(spreadOverHeads(delta, matrix.heads, packing.part, packing.parts));
      continue;
    }
    throw new Error(`the CUDA graph holds no weight for ${delta.initializer}`);
  }
  for (const [initializer, { factors }] of packed) placed.push(joinRanks(initializer, factors));
  return placed;
}

/**
 * B's columns reordered from torch's kernel order (c, kh, kw) to the channels-last one (kh, kw, c): A @ B is then
 * the change of the [M, kH, kW, C] kernel, row by row.
 */
export function channelsLastColumns(delta: LowRankFactors, kernel: readonly number[]): Float32Array {
  const [m, kh, kw, c] = kernel;
  const plane = kh * kw;
  if (delta.rows !== m || delta.cols !== c * plane)
    throw new Error(`a change of [${delta.rows}, ${delta.cols}] does not fit the kernel [${kernel.join(', ')}]`);
  const b = new Float32Array(delta.b.length);
  for (let r = 0; r < delta.rank; r++) {
    const row = r * delta.cols;
    for (let ch = 0; ch < c; ch++) for (let p = 0; p < plane; p++) b[row + p * c + ch] = delta.b[row + ch * plane + p];
  }
  return b;
}

/**
 * The change of one linear, stored [in, out] (transposed), as a change of the [in, heads * parts * d] matrix that
 * packs `parts` linears head by head: its column n * d + i goes to (n * parts + part) * d + i, the others are 0.
 */
export function spreadOverHeads(delta: LowRankFactors, heads: number, part: number, parts: number): LowRankFactors {
  const d = delta.cols / heads;
  if (!Number.isInteger(d)) throw new Error(`${delta.cols} columns do not split into ${heads} heads`);
  const cols = delta.cols * parts;
  const b = new Float32Array(delta.rank * cols);
  for (let r = 0; r < delta.rank; r++)
    for (let n = 0; n < heads; n++) {
      const from = r * delta.cols + n * d;
      b.set(delta.b.subarray(from, from + d), r * cols + (n * parts + part) * d);
    }
  return { rows: delta.rows, cols, rank: delta.rank, a: delta.a, b };
}

function packedMatrixOf(initializer: string): { initializer: string; part: number; parts: number } | undefined {
  for (const { pattern, packed, parts } of PACKINGS) {
    const m = pattern.exec(initializer);
    if (m) return { initializer: `${m[1]}.${packed}`, part: parts.indexOf(m[2]), parts: parts.length };
  }
  return undefined;
}

/** The heads of a packed matrix: its product is reshaped to [B, S, heads, parts, d] by a constant shape. */
export function packedHeadCount(model: ModelProto, initializer: string, parts: number): number {
  const nodes = model.graph?.node ?? [];
  const product = nodes.find((n) => n.opType === 'MatMul' && n.input?.[1] === initializer)?.output?.[0];
  const reshape = nodes.find((n) => n.opType === 'Reshape' && n.input?.[0] === product);
  const shape = model.graph?.initializer?.find((t) => t.name === reshape?.input?.[1]);
  const values = shape ? int64Values(shape) : [];
  if (product === undefined || values.length !== 5 || values[3] !== parts || !(values[2] > 0))
    throw new Error(`the CUDA graph does not split ${initializer}'s product into heads as expected`);
  return values[2];
}

function int64Values(t: onnxProto.onnx.ITensorProto): number[] {
  if (t.dataType !== onnx.TensorProto.DataType.INT64) return [];
  if (t.rawData && t.rawData.length > 0) {
    const raw = t.rawData;
    return Array.from(new BigInt64Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength)), Number);
  }
  return (t.int64Data ?? []).map(Number);
}
