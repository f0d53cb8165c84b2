// Rewrites an ONNX graph from one float type to the other: every float16 initializer, constant, value type
// and Cast target becomes float32 (or the reverse). SDXL's original VAE overflows in float16 at 1024x1024
// (NaN images), so an fp16 folder's decoder is run in float32, as diffusers upcasts it (force_upcast).
// External weights are read in and stored inline: a VAE decoder is about 200 MB in float32.
import { closeSync, openSync, readFileSync, readSync, realpathSync } from 'node:fs';
import { dirname, join, resolve, sep } from 'node:path';
import onnxProto from 'onnx-proto';
import { fromHalfBits, toHalfBits } from './half.ts';
import { ModelError } from './errors.ts';
import { externalDataOf } from '../onnx/write-model.ts';
import type { FloatType } from './tensors.ts';

const { onnx } = onnxProto;
type ModelProto = InstanceType<typeof onnx.ModelProto>;
type GraphProto = InstanceType<typeof onnx.GraphProto>;
type TensorProto = InstanceType<typeof onnx.TensorProto>;
type AttributeProto = InstanceType<typeof onnx.AttributeProto>;

const CODE: Record<FloatType, number> = { float32: onnx.TensorProto.DataType.FLOAT, float16: onnx.TensorProto.DataType.FLOAT16 };
/** protobuf's limit on one message: the rewritten graph must stay under it. */
const MAX_INLINE_BYTES = 2 ** 31 - 2 ** 24;

interface Conversion {
  from: number;
  to: number;
  folder: string;
  component: string;
  bytes: number;
}

/** protobufjs gives int64 fields as numbers or as Long objects (whose toString is the decimal value). */
const toNumber = (value: unknown): number => (typeof value === 'number' ? value : Number(String(value)));

function elementCount(tensor: TensorProto): number {
  return tensor.dims.reduce((n: number, d) => n * toNumber(d), 1);
}

/** A tensor's bytes as stored: inline raw_data, the typed fields, or an external file beside the graph. */
function tensorBytes(tensor: TensorProto, c: Conversion): Uint8Array {
  const external = externalDataOf(tensor);
  if (external) {
    const location = external.location;
    if (!location) throw new ModelError(c.component, `tensor ${tensor.name} is external but names no file`);
    const path = resolve(c.folder, location);
    const real = realpathSync(path);
    if (!real.startsWith(realpathSync(c.folder) + sep))
      throw new ModelError(c.component, `tensor ${tensor.name} points outside its folder (${location})`);
    const offset = external.offset;
    const itemBytes = c.from === CODE.float16 ? 2 : 4;
    const length = external.length ?? elementCount(tensor) * itemBytes;
    const out = new Uint8Array(length);
    const fd = openSync(real, 'r');
    try {
      if (readSync(fd, out, 0, length, offset) !== length)
        throw new ModelError(c.component, `${location} is shorter than tensor ${tensor.name} needs (truncated weights?)`);
    } finally {
      closeSync(fd);
    }
    return out;
  }
  if (tensor.rawData && tensor.rawData.length > 0) return tensor.rawData;
  // Without raw_data, float16 values travel as int32_data (one bit pattern each), float32 in float_data.
  if (c.from === CODE.float16) return new Uint8Array(Uint16Array.from(tensor.int32Data).buffer);
  return new Uint8Array(Float32Array.from(tensor.floatData).buffer);
}

/** A float initializer's values in float32, for the few small weights the engine applies itself (model/clip-skip.ts). */
export function floatInitializerValues(tensor: TensorProto, folder: string, component: string): Float32Array {
  const type = tensor.dataType;
  if (type !== CODE.float32 && type !== CODE.float16)
    throw new ModelError(component, `tensor ${tensor.name} is neither float32 nor float16 (data type ${type})`);
  const bytes = new Uint8Array(tensorBytes(tensor, { from: type, to: type, folder, component, bytes: 0 })); // aligned copy
  const values =
    type === CODE.float16
      ? fromHalfBits(new Uint16Array(bytes.buffer, 0, bytes.length >> 1))
      : new Float32Array(bytes.buffer, 0, bytes.length >> 2);
  if (values.length !== elementCount(tensor))
    throw new ModelError(component, `tensor ${tensor.name} holds ${values.length} values, its shape says ${elementCount(tensor)}`);
  return values;
}

function convertTensor(tensor: TensorProto, c: Conversion): void {
  if (tensor.dataType !== c.from) return;
  const bytes = tensorBytes(tensor, c);
  const copy = new Uint8Array(bytes); // a fresh, aligned buffer for the typed views (Buffer.slice would share memory)
  const converted =
    c.from === CODE.float16
      ? new Uint8Array(fromHalfBits(new Uint16Array(copy.buffer, 0, copy.length / 2)).buffer)
      : new Uint8Array(toHalfBits(new Float32Array(copy.buffer, 0, copy.length / 4)).buffer);
  c.bytes += converted.length;
  if (c.bytes > MAX_INLINE_BYTES) throw new ModelError(c.component, 'is too large to convert in memory (over 2 GB of weights)');
  tensor.dataType = c.to;
  tensor.rawData = converted;
  tensor.int32Data = [];
  tensor.floatData = [];
  tensor.externalData = [];
  tensor.dataLocation = onnx.TensorProto.DataLocation.DEFAULT;
}

function convertAttribute(attribute: AttributeProto, c: Conversion): void {
  // Cast's target and the dtype of EyeLike / RandomNormal-style ops.
  if ((attribute.name === 'to' || attribute.name === 'dtype') && toNumber(attribute.i) === c.from) attribute.i = c.to;
  if (attribute.t) convertTensor(attribute.t as TensorProto, c);
  for (const t of attribute.tensors ?? []) convertTensor(t as TensorProto, c);
  if (attribute.g) convertGraph(attribute.g as GraphProto, c);
  for (const g of attribute.graphs ?? []) convertGraph(g as GraphProto, c);
}

function convertGraph(graph: GraphProto, c: Conversion): void {
  for (const tensor of graph.initializer ?? []) convertTensor(tensor as TensorProto, c);
  for (const node of graph.node) for (const attribute of node.attribute ?? []) convertAttribute(attribute as AttributeProto, c);
  for (const value of [...(graph.input ?? []), ...(graph.output ?? []), ...(graph.valueInfo ?? [])]) {
    const tensorType = value.type?.tensorType;
    if (tensorType && tensorType.elemType === c.from) tensorType.elemType = c.to;
  }
}

/** The graph in `path` (with its external weights) rewritten from `from` to `to`, as bytes a session can load. */
export function convertFloatType(path: string, from: FloatType, to: FloatType, component: string): Uint8Array {
  let model: ModelProto;
  try {
    model = onnx.ModelProto.decode(readFileSync(path));
  } catch (error) {
    throw new ModelError(
      component,
      `${join(component, 'model.onnx')} is not a readable ONNX model: ${(error as Error).message.split('\n')[0]}`,
    );
  }
  if (!model.graph) throw new ModelError(component, 'model.onnx holds no graph');
  convertGraph(model.graph as GraphProto, { from: CODE[from], to: CODE[to], folder: dirname(path), component, bytes: 0 });
  return onnx.ModelProto.encode(model).finish();
}
