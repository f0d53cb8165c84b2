// A component's graph with some weights changed, written as a small model.onnx beside the original weights.
// Nothing large is written: each changed weight W becomes W + A @ B, with the low-rank factors A and B in a
// small data file and W still read from the original model.onnx_data. onnxruntime folds these constant
// subgraphs while it creates the session, so the merged weight is what the session holds and runs with.
// Extra token rows (textual inversion) are appended to the token table the same way (Concat, folded).
import { closeSync, openSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;
type ModelProto = InstanceType<typeof onnx.ModelProto>;
type TensorProto = InstanceType<typeof onnx.TensorProto>;
type NodeProto = InstanceType<typeof onnx.NodeProto>;

const FLOAT = onnx.TensorProto.DataType.FLOAT;
const FLOAT16 = onnx.TensorProto.DataType.FLOAT16;
const INT64 = onnx.TensorProto.DataType.INT64;
const ALIGN = 64;

/** What a component's graph holds: each initializer's shape and float type (for matching adapters to weights). */
export interface ComponentWeights {
  dims: ReadonlyMap<string, readonly number[]>;
  float: ReadonlyMap<string, 'float32' | 'float16'>;
}

/** W += A @ B: A is [rows, rank], B is [rank, cols], rows x cols = W's size; the product is reshaped to W's shape. */
export interface LowRankDelta {
  initializer: string;
  rows: number;
  cols: number;
  rank: number;
  a: Float32Array;
  b: Float32Array;
}

/** Rows appended to a [vocab, hidden] table (extra token embeddings); ids at and above `vocab` read them. */
export interface ExtraRows {
  initializer: string;
  count: number;
  rows: Float32Array;
}

export interface ComponentPatch {
  deltas: LowRankDelta[];
  tokenRows?: ExtraRows;
}

export function readModelProto(path: string): ModelProto {
  return onnx.ModelProto.decode(readFileSync(path));
}

/** The float initializers of a model and their shapes. */
export function componentWeights(model: ModelProto): ComponentWeights {
  const dims = new Map<string, number[]>(),
    float = new Map<string, 'float32' | 'float16'>();
  for (const t of model.graph?.initializer ?? []) {
    if (t.dataType !== FLOAT && t.dataType !== FLOAT16) continue;
    dims.set(t.name ?? '', (t.dims ?? []).map(Number));
    float.set(t.name ?? '', t.dataType === FLOAT16 ? 'float16' : 'float32');
  }
  return { dims, float };
}

/** Collects the new initializers' bytes for the extra data file, each at a 64-byte aligned offset. */
class ExtraData {
  readonly parts: Uint8Array[] = [];
  private offset = 0;

  constructor(readonly location: string) {}

  tensor(name: string, values: Float32Array, dims: number[]): TensorProto {
    const start = Math.ceil(this.offset / ALIGN) * ALIGN;
    if (start > this.offset) this.parts.push(new Uint8Array(start - this.offset));
    const bytes = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
    this.parts.push(bytes);
    this.offset = start + bytes.length;
    return onnx.TensorProto.create({
      name,
      dims,
      dataType: FLOAT,
      dataLocation: onnx.TensorProto.DataLocation.EXTERNAL,
      externalData: [
        { key: 'location', value: this.location },
        { key: 'offset', value: String(start) },
        { key: 'length', value: String(bytes.length) },
      ],
    });
  }
}

function node(opType: string, inputs: string[], output: string, attribute: InstanceType<typeof onnx.AttributeProto>[] = []): NodeProto {
  return onnx.NodeProto.create({ name: output, opType, input: inputs, output: [output], attribute });
}

function intsConstant(name: string, values: number[]): TensorProto {
  return onnx.TensorProto.create({
    name,
    dims: [values.length],
    dataType: INT64,
    rawData: new Uint8Array(BigInt64Array.from(values, BigInt).buffer),
  });
}

const castTo = (code: number) => onnx.AttributeProto.create({ name: 'to', type: onnx.AttributeProto.AttributeType.INT, i: code });

/**
 * Adds the nodes that compute `initializer` changed by `change(value32)` in float32 (casting a float16 weight up
 * and the result back); `renames` gets initializer -> result, for the graph's readers (renamed in one pass).
 */
function replaceWeight(
  renames: Map<string, string>,
  weights: ComponentWeights,
  initializer: string,
  prefix: string,
  change: (value32: string, added: NodeProto[]) => string,
): NodeProto[] {
  const added: NodeProto[] = [];
  const half = weights.float.get(initializer) === 'float16';
  const base = half ? (added.push(node('Cast', [initializer], `${prefix}/base32`, [castTo(FLOAT)])), `${prefix}/base32`) : initializer;
  let result = change(base, added);
  if (half) {
    added.push(node('Cast', [result], `${prefix}/merged16`, [castTo(FLOAT16)]));
    result = `${prefix}/merged16`;
  }
  renames.set(initializer, result);
  return added;
}

/** The readers of `values` that compute the pooled output as the position of the highest id (CLIP's legacy EOS rule). */
function pooledArgMax(model: ModelProto, ids: string): InstanceType<typeof onnx.NodeProto>[] {
  return model.graph!.node!.filter((n) => n.opType === 'ArgMax' && n.input?.[0] === ids) as NodeProto[];
}

/**
 * Writes dir/<stem>.onnx and dir/<stem>.bin: the source graph with the patch applied. Weights the patch does not
 * touch stay external in `dataFile` (a name in the same folder, as onnxruntime requires).
 */
export function writePatchedModel(source: ModelProto, weights: ComponentWeights, patch: ComponentPatch, dir: string, stem: string): string {
  const model = onnx.ModelProto.decode(onnx.ModelProto.encode(source).finish());
  const extra = new ExtraData(`${stem}.bin`);
  const newNodes: NodeProto[] = [];
  const newInitializers: TensorProto[] = [];
  const renames = new Map<string, string>();
  for (const [i, delta] of patch.deltas.entries()) {
    const dims = weights.dims.get(delta.initializer);
    if (!dims) throw new Error(`the graph has no weight ${delta.initializer}`);
    const size = dims.reduce((a, b) => a * b, 1);
    if (delta.rows * delta.cols !== size || delta.a.length !== delta.rows * delta.rank || delta.b.length !== delta.rank * delta.cols) {
      throw new Error(
        `low-rank change of ${delta.initializer} [${dims.join(', ')}]: ` +
          `factors [${delta.rows}, ${delta.rank}] x [${delta.rank}, ${delta.cols}] do not fit`,
      );
    }
    const prefix = `adapter/${i}`;
    newInitializers.push(
      extra.tensor(`${prefix}/a`, delta.a, [delta.rows, delta.rank]),
      extra.tensor(`${prefix}/b`, delta.b, [delta.rank, delta.cols]),
    );
    newNodes.push(
      ...replaceWeight(renames, weights, delta.initializer, prefix, (base, added) => {
        if (dims.length === 2 && dims[0] === delta.rows) {
          // One kernel and one new tensor: Gemm gives A @ B + W.
          added.push(node('Gemm', [`${prefix}/a`, `${prefix}/b`, base], `${prefix}/merged`));
          return `${prefix}/merged`;
        }
        added.push(node('MatMul', [`${prefix}/a`, `${prefix}/b`], `${prefix}/delta`));
        let change = `${prefix}/delta`;
        if (dims.length !== 2 || dims[0] !== delta.rows) {
          newInitializers.push(intsConstant(`${prefix}/shape`, [...dims]));
          added.push(node('Reshape', [change, `${prefix}/shape`], `${prefix}/delta_shaped`));
          change = `${prefix}/delta_shaped`;
        }
        added.push(node('Add', [base, change], `${prefix}/merged`));
        return `${prefix}/merged`;
      }),
    );
  }
  if (patch.tokenRows) newNodes.push(...appendRows(model, renames, weights, patch.tokenRows, extra, newInitializers));
  for (const n of model.graph!.node!) n.input = n.input!.map((input) => renames.get(input) ?? input);
  // The new nodes read only initializers, so putting them first keeps the node list topologically sorted.
  model.graph!.node = [...newNodes, ...(model.graph!.node! as NodeProto[])];
  model.graph!.initializer = [...model.graph!.initializer!, ...newInitializers];
  const fd = openSync(join(dir, `${stem}.bin`), 'w');
  try {
    for (const part of extra.parts) writeSync(fd, part);
  } finally {
    closeSync(fd);
  }
  const path = join(dir, `${stem}.onnx`);
  writeFileSync(path, onnx.ModelProto.encode(model).finish());
  return path;
}

function appendRows(
  model: ModelProto,
  renames: Map<string, string>,
  weights: ComponentWeights,
  extraRows: ExtraRows,
  extra: ExtraData,
  newInitializers: TensorProto[],
): NodeProto[] {
  const dims = weights.dims.get(extraRows.initializer);
  if (!dims || dims.length !== 2) throw new Error(`the graph has no token table ${extraRows.initializer}`);
  const [vocab, hidden] = dims;
  if (extraRows.rows.length !== extraRows.count * hidden)
    throw new Error(`${extraRows.count} extra rows need ${extraRows.count * hidden} values`);
  const prefix = 'adapter/token_rows';
  newInitializers.push(extra.tensor(`${prefix}/rows`, extraRows.rows, [extraRows.count, hidden]));
  const added = replaceWeight(renames, weights, extraRows.initializer, prefix, (base, nodes) => {
    nodes.push(
      node('Concat', [base, `${prefix}/rows`], `${prefix}/table`, [
        onnx.AttributeProto.create({ name: 'axis', type: onnx.AttributeProto.AttributeType.INT, i: 0 }),
      ]),
    );
    return `${prefix}/table`;
  });
  // The pooled output is taken at the highest id (the EOS token) where the config has the legacy EOS id; the new
  // ids are higher, so they are read as 0 there (A1111 gives embeddings id 0 in the token list).
  const ids = model.graph!.input!.find((i) => i.name === 'input_ids')?.name ?? undefined;
  if (ids !== undefined) {
    for (const argMax of pooledArgMax(model, ids)) {
      const type = model.graph!.input!.find((i) => i.name === ids)!.type?.tensorType?.elemType ?? onnx.TensorProto.DataType.INT32;
      const limit = `${prefix}/vocab`,
        zero = `${prefix}/zero`;
      const scalar = (name: string, value: number) =>
        onnx.TensorProto.create({
          name,
          dims: [],
          dataType: type,
          rawData:
            type === INT64 ? new Uint8Array(BigInt64Array.from([BigInt(value)]).buffer) : new Uint8Array(Int32Array.from([value]).buffer),
        });
      newInitializers.push(scalar(limit, vocab), scalar(zero, 0));
      added.push(node('Less', [ids, limit], `${prefix}/known`), node('Where', [`${prefix}/known`, ids, zero], `${prefix}/pooling_ids`));
      argMax.input = [`${prefix}/pooling_ids`, ...argMax.input!.slice(1)];
    }
  }
  return added;
}
