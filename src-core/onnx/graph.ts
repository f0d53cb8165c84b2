// A small ONNX graph builder. Nodes, inputs and small constants live in memory; float weights are only
// WeightRefs until writeModel (write-model.ts) streams them, one at a time, into model.onnx_data as external data.
// The protobuf itself is encoded by onnx-proto (protobufjs classes generated from ONNX's onnx.proto).
import onnxProto from 'onnx-proto';
import { toHalfBits } from '../model/half.ts';
import { elementCount, type WeightRef } from '../import/weights.ts';

const { onnx } = onnxProto;

export type DType = 'float32' | 'float16' | 'int64' | 'int32' | 'bool';
/** Plain numbers are ints; floats are spelled { float } / { floats }; a tensor attribute (ConstantOfShape) as { tensor }. */
export type AttrValue =
  number | string | number[] | { float: number } | { floats: number[] } | { tensor: { dtype: DType; values: number[]; shape?: number[] } };
export interface BuildOptions {
  float: 'float32' | 'float16';
  attention?: 'plain' | 'mha';
  /**
   * 'portable' (default): standard ops that every provider runs. 'cuda': the UNet in NHWC with onnxruntime's
   * fused CUDA-only com.microsoft ops, as its transformer optimizer leaves a Stable Diffusion UNet.
   */
  target?: 'portable' | 'cuda';
}

export const OPSET = 17;
export const MS_DOMAIN = 'com.microsoft';
/** Each weight's offset in model.onnx_data. */
const ALIGN = 64;

export const TYPE_CODE: Record<DType, number> = {
  float32: onnx.TensorProto.DataType.FLOAT,
  float16: onnx.TensorProto.DataType.FLOAT16,
  int64: onnx.TensorProto.DataType.INT64,
  int32: onnx.TensorProto.DataType.INT32,
  bool: onnx.TensorProto.DataType.BOOL,
};

interface PendingWeight {
  name: string;
  ref: WeightRef;
  /** The stored float type: the graph's, or float32 where an op wants it whatever the graph's (GroupNorm's scales). */
  float: 'float32' | 'float16';
}

export class Graph {
  readonly nodes: InstanceType<typeof onnx.NodeProto>[] = [];
  readonly inputs: InstanceType<typeof onnx.ValueInfoProto>[] = [];
  readonly outputs: InstanceType<typeof onnx.ValueInfoProto>[] = [];
  readonly constants: InstanceType<typeof onnx.TensorProto>[] = [];
  readonly weights: PendingWeight[] = [];
  private readonly values = new Set<string>();
  private readonly nodeNames = new Set<string>();
  private readonly constantByKey = new Map<string, string>();
  private readonly weightByRef = new Map<WeightRef, string>();
  private readonly scopes: string[] = [];
  private usesMicrosoftDomain = false;

  constructor(
    readonly name: string,
    readonly float: 'float32' | 'float16',
  ) {}

  input(name: string, dtype: DType, shape: Array<number | string>): string {
    this.claim(name);
    this.inputs.push(valueInfo(name, dtype, shape));
    return name;
  }

  /** Declares a graph output; an Identity renames `value` when the names differ. */
  output(name: string, value: string, dtype: DType, shape: Array<number | string>): void {
    this.requireValue(value);
    if (value !== name) {
      this.claim(name);
      this.nodes.push(onnx.NodeProto.create({ name: this.nodeName(`output/${name}`), opType: 'Identity', input: [value], output: [name] }));
    }
    this.outputs.push(valueInfo(name, dtype, shape));
  }

  /** A float initializer in the graph's float type (or `float`), read and converted only at write time. */
  weight(name: string, ref: WeightRef, float: 'float32' | 'float16' = this.float): string {
    const known = this.weightByRef.get(ref);
    if (known !== undefined) {
      const stored = this.weights.find((w) => w.name === known)!;
      if (stored.float !== float) throw new Error(`weight ${name} is already stored as ${stored.float}`);
      return known;
    }
    const unique = this.uniqueValue(name);
    this.weights.push({ name: unique, ref, float });
    this.weightByRef.set(ref, unique);
    return unique;
  }

  /** A small inline initializer (shapes, axes, scalars); identical constants are shared. */
  constant(values: number[], dtype: DType, shape: number[] = [values.length]): string {
    if (elementCount(shape) !== values.length) throw new Error(`constant of shape [${shape}] given ${values.length} values`);
    const key = `${dtype}|${shape.join(',')}|${values.join(',')}`;
    const known = this.constantByKey.get(key);
    if (known !== undefined) return known;
    const label = values.length <= 6 ? values.map((v) => String(v)).join('_') : `n${values.length}`;
    const name = this.uniqueValue(`const/${dtype}/${label}`);
    this.constants.push(onnx.TensorProto.create({ name, dims: shape, dataType: TYPE_CODE[dtype], rawData: encodeValues(values, dtype) }));
    this.constantByKey.set(key, name);
    return name;
  }

  /** A constant in the graph's float type (a scalar when `shape` is omitted and one value is given). */
  floatConstant(values: number[], shape: number[] = values.length === 1 ? [] : [values.length]): string {
    return this.constant(values, this.float, shape);
  }

  /** Adds a node; returns its first output. options.name overrides the node's label within the current scope. */
  op(
    type: string,
    inputs: string[],
    attrs?: Record<string, AttrValue>,
    options?: { domain?: string; outputs?: number; name?: string },
  ): string {
    return this.opMulti(type, inputs, options?.outputs ?? 1, attrs, options)[0];
  }

  opMulti(
    type: string,
    inputs: string[],
    outputs: number,
    attrs?: Record<string, AttrValue>,
    options?: { domain?: string; name?: string; unnamed?: number[] },
  ): string[] {
    for (const input of inputs) if (input !== '') this.requireValue(input);
    const nodeName = this.nodeName(this.scoped(options?.name ?? type));
    // An optional output left unnamed ('') is one the node does not produce.
    const outputNames = Array.from({ length: outputs }, (_, i) =>
      options?.unnamed?.includes(i) ? '' : this.uniqueValue(outputs === 1 ? nodeName : `${nodeName}:${i}`),
    );
    this.nodes.push(this.node(nodeName, type, inputs, outputNames, attrs, options?.domain));
    return outputNames;
  }

  /**
   * Puts a `type` node in place of the single-output node that produced `value`, keeping `value` as its output
   * number `keep` (its other outputs get new names, returned in order). The new node's inputs must be known
   * where the old node stood: this is for fusing an Add into a later normalization that also returns the sum.
   */
  replaceProducer(
    value: string,
    type: string,
    inputs: string[],
    outputs: number,
    keep: number,
    attrs?: Record<string, AttrValue>,
    options?: { domain?: string },
  ): string[] {
    const index = this.nodes.findIndex((node) => node.output.length === 1 && node.output[0] === value);
    if (index < 0) throw new Error(`graph ${this.name}: no single-output node produces ${value}`);
    const before = new Set(this.nodes.slice(0, index).flatMap((node) => node.output));
    for (const input of inputs) {
      const known = input === '' || before.has(input) || this.inputs.some((i) => i.name === input) || this.isInitializer(input);
      if (!known) throw new Error(`graph ${this.name}: ${input} is not known before ${value} is made`);
    }
    const old = this.nodes[index];
    const names = Array.from({ length: outputs }, (_, i) => (i === keep ? value : this.uniqueValue(`${old.name}/${type}:${i}`)));
    this.nodes[index] = this.node(`${old.name}/${type}`, type, inputs, names, attrs, options?.domain);
    return names.filter((_, i) => i !== keep);
  }

  /** A NodeProto; a com.microsoft node makes the model import that domain. */
  private node(name: string, type: string, inputs: string[], outputs: string[], attrs?: Record<string, AttrValue>, domain = '') {
    if (domain === MS_DOMAIN) this.usesMicrosoftDomain = true;
    const attributes = Object.entries(attrs ?? {}).map(([key, value]) => attribute(key, value));
    return onnx.NodeProto.create({ name, opType: type, domain, input: inputs, output: outputs, attribute: attributes });
  }

  /**
   * Runs `build` with `prefix` prepended to the names of the nodes it adds; nested diffusers prefixes read as
   * a path ("down_blocks.0.resnets.0" then "down_blocks.0.resnets.0.conv1" name nodes "down_blocks.0.resnets.0/conv1/Conv").
   */
  scope<T>(prefix: string, build: () => T): T {
    this.scopes.push(prefix);
    try {
      return build();
    } finally {
      this.scopes.pop();
    }
  }

  /** Bytes model.onnx_data will take (padding included), for progress before writing. */
  weightBytes(): number {
    return this.weights.reduce(weightEnd, 0);
  }

  private isInitializer(name: string): boolean {
    return this.weights.some((w) => w.name === name) || this.constants.some((c) => c.name === name);
  }

  /** The ModelProto with the given initializers (the external weight records). */
  toModel(initializers: InstanceType<typeof onnx.TensorProto>[]): InstanceType<typeof onnx.ModelProto> {
    const opsetImport = [onnx.OperatorSetIdProto.create({ domain: '', version: OPSET })];
    if (this.usesMicrosoftDomain) opsetImport.push(onnx.OperatorSetIdProto.create({ domain: MS_DOMAIN, version: 1 }));
    return onnx.ModelProto.create({
      irVersion: 8,
      producerName: 'restart-studio',
      producerVersion: '1',
      opsetImport,
      graph: onnx.GraphProto.create({
        name: this.name,
        node: this.nodes,
        input: this.inputs,
        output: this.outputs,
        initializer: [...this.constants, ...initializers],
      }),
    });
  }

  /** Scopes joined by '/', a scope that extends its parent's dotted name keeping only the new part. */
  private scoped(label: string): string {
    const parts = this.scopes.map((scope, i) => {
      const parent = this.scopes[i - 1];
      return parent !== undefined && scope.startsWith(`${parent}.`) ? scope.slice(parent.length + 1) : scope;
    });
    return [...parts, label].join('/');
  }

  private nodeName(base: string): string {
    let name = base;
    for (let i = 1; this.nodeNames.has(name) || this.values.has(name); i++) name = `${base}_${i}`;
    this.nodeNames.add(name);
    return name;
  }

  private uniqueValue(base: string): string {
    let name = base;
    for (let i = 1; this.values.has(name); i++) name = `${base}_${i}`;
    this.values.add(name);
    return name;
  }

  private claim(name: string): void {
    if (this.values.has(name)) throw new Error(`graph ${this.name}: value name ${name} is already used`);
    this.values.add(name);
  }

  private requireValue(name: string): void {
    if (!this.values.has(name)) throw new Error(`graph ${this.name}: unknown value ${name}`);
  }
}

export function align(offset: number): number {
  return Math.ceil(offset / ALIGN) * ALIGN;
}

/** Where a weight written at the next aligned offset after `offset` ends in the data file. */
export function weightEnd(offset: number, w: { ref: WeightRef; float: 'float32' | 'float16' }): number {
  return align(offset) + elementCount(w.ref.shape) * (w.float === 'float16' ? 2 : 4);
}

function encodeValues(values: number[], dtype: DType): Uint8Array {
  switch (dtype) {
    case 'float32':
      return bytesOf(Float32Array.from(values));
    case 'float16':
      return bytesOf(toHalfBits(Float32Array.from(values)));
    case 'int64':
      return bytesOf(BigInt64Array.from(values, (v) => BigInt(v)));
    case 'int32':
      return bytesOf(Int32Array.from(values));
    case 'bool':
      return Uint8Array.from(values, (v) => (v ? 1 : 0));
  }
}

function bytesOf(typed: { buffer: ArrayBufferLike; byteOffset: number; byteLength: number }): Uint8Array {
  return new Uint8Array(typed.buffer, typed.byteOffset, typed.byteLength);
}

function valueInfo(name: string, dtype: DType, shape: Array<number | string>): InstanceType<typeof onnx.ValueInfoProto> {
  const dim = shape.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d }));
  return onnx.ValueInfoProto.create({ name, type: { tensorType: { elemType: TYPE_CODE[dtype], shape: { dim } } } });
}

function attribute(name: string, value: AttrValue): InstanceType<typeof onnx.AttributeProto> {
  const T = onnx.AttributeProto.AttributeType;
  if (typeof value === 'number') {
    if (!Number.isInteger(value)) throw new Error(`attribute ${name}: ${value} is not an int (write { float: ${value} })`);
    return onnx.AttributeProto.create({ name, type: T.INT, i: value });
  }
  if (typeof value === 'string') return onnx.AttributeProto.create({ name, type: T.STRING, s: new TextEncoder().encode(value) });
  if (Array.isArray(value)) return onnx.AttributeProto.create({ name, type: T.INTS, ints: value });
  if ('float' in value) return onnx.AttributeProto.create({ name, type: T.FLOAT, f: value.float });
  if ('floats' in value) return onnx.AttributeProto.create({ name, type: T.FLOATS, floats: value.floats });
  const { dtype, values, shape = [values.length] } = value.tensor;
  return onnx.AttributeProto.create({
    name,
    type: T.TENSOR,
    t: onnx.TensorProto.create({ dims: shape, dataType: TYPE_CODE[dtype], rawData: encodeValues(values, dtype) }),
  });
}
