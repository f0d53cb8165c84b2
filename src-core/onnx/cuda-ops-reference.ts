// Test support: the CUDA flavour's onnxruntime ops that have no CPU kernel, rewritten into standard ops exactly as
// docs/ContribOperators.md (and the CUDA kernels' sources) define them, so that a CUDA-flavour graph runs on the
// CPU beside the portable one. GroupNorm / SkipGroupNorm (NHWC, float32 gamma and beta, optional SiLU), NhwcConv
// (kernel [M, kH, kW, C]), BiasSplitGelu (second half through exact GELU), BiasAdd, and MultiHeadAttention with
// packed QKV [B, S, N, 3, H] or packed KV [B, L, N, 2, H] (the CPU kernel refuses both). Not used by the app.
import onnxProto from 'onnx-proto';
import { MS_DOMAIN, type Graph } from './graph.ts';
import { attention, dimsOf, gelu, normalizeGroups, silu, toGraphFloat } from './layers.ts';

const { onnx } = onnxProto;
type Node = InstanceType<typeof onnx.NodeProto>;

function intAttr(node: Node, name: string, fallback: number): number {
  const found = node.attribute.find((a) => a.name === name);
  return found?.i === undefined || found.i === null ? fallback : Number(found.i);
}

function floatAttr(node: Node, name: string, fallback: number): number {
  return node.attribute.find((a) => a.name === name)?.f ?? fallback;
}

function intsAttr(node: Node, name: string): number[] | undefined {
  return node.attribute.find((a) => a.name === name)?.ints?.map(Number);
}

/** torch GroupNorm on NHWC `x` with runtime gamma and beta, then SiLU when `activation` is 1. */
function groupNormNhwc(g: Graph, node: Node, x: string): string {
  const groups = intAttr(node, 'groups', 0);
  if (intAttr(node, 'channels_last', 1) !== 1) throw new Error('GroupNorm: only channels_last = 1 is expanded');
  const nchw = g.op('Transpose', [x], { perm: [0, 3, 1, 2] });
  const restored = normalizeGroups(g, nchw, groups, floatAttr(node, 'epsilon', 1e-5));
  // gamma and beta are float32 whatever the graph's float type
  const perChannel = (v: string) => g.op('Reshape', [toGraphFloat(g, v, 'Scale'), g.constant([-1, 1, 1], 'int64')]);
  let y = g.op('Add', [g.op('Mul', [restored, perChannel(node.input[1])]), perChannel(node.input[2])]);
  if (intAttr(node, 'activation', 0) === 1) y = silu(g, y);
  return g.op('Transpose', [y], { perm: [0, 2, 3, 1] });
}

/** x + skip (+ bias), skip being x's shape, [N, 1, 1, C] or [N, C]: both are seen as [N, -1, C] rows. */
function skipSum(g: Graph, node: Node): string {
  const [x, , , skip, bias] = node.input;
  const rows = g.op('Concat', [dimsOf(g, x, 0, 1), g.constant([-1], 'int64'), dimsOf(g, x, 3, 4)], { axis: 0 });
  let sum = g.op('Add', [g.op('Reshape', [x, rows]), g.op('Reshape', [skip, rows])]);
  if (bias) sum = g.op('Add', [sum, bias]);
  return g.op('Reshape', [sum, g.op('Shape', [x])]);
}

/** MultiHeadAttention's packed input [B, S, N, parts, H] as `parts` tensors [B, S, N * H]. */
function unpack(g: Graph, packed: string, parts: number): string[] {
  return g.opMulti('Split', [packed], parts, { axis: 3 }).map((part) => g.op('Reshape', [part, g.constant([0, 0, -1], 'int64')]));
}

const EXPANSIONS: Record<string, (g: Graph, node: Node) => string[] | undefined> = {
  GroupNorm: (g, node) => [groupNormNhwc(g, node, node.input[0])],
  SkipGroupNorm: (g, node) => {
    const sum = skipSum(g, node);
    return [groupNormNhwc(g, node, sum), sum];
  },
  NhwcConv: (g, node) => {
    const [x, w, b] = node.input;
    const kernel = g.op('Transpose', [w], { perm: [0, 3, 1, 2] });
    const attrs = {
      kernel_shape: intsAttr(node, 'kernel_shape')!,
      pads: intsAttr(node, 'pads')!,
      strides: intsAttr(node, 'strides')!,
      dilations: intsAttr(node, 'dilations') ?? [1, 1],
      group: intAttr(node, 'group', 1),
    };
    const conv = g.op('Conv', [g.op('Transpose', [x], { perm: [0, 3, 1, 2] }), kernel, ...(b ? [b] : [])], attrs);
    return [g.op('Transpose', [conv], { perm: [0, 2, 3, 1] })];
  },
  BiasSplitGelu: (g, node) => {
    const [left, right] = g.opMulti('Split', [g.op('Add', [node.input[0], node.input[1]])], 2, { axis: -1 });
    return [g.op('Mul', [left, gelu(g, right)])];
  },
  BiasAdd: (g, node) => [g.op('Add', [g.op('Add', [node.input[0], node.input[1]]), node.input[2]])],
  MultiHeadAttention: (g, node) => {
    const heads = intAttr(node, 'num_heads', 0);
    const [query, key, value] = node.input;
    if (!key) {
      const [q, k, v] = unpack(g, query, 3);
      return [attention(g, q, k, v, heads, { mode: 'plain' })];
    }
    if (!value) {
      const [k, v] = unpack(g, key, 2);
      return [attention(g, query, k, v, heads, { mode: 'plain' })];
    }
    return undefined; // unpacked: the CPU runs it
  },
};

/** Rewrites `g` in place: every expandable com.microsoft node becomes standard ops with the same output names. */
export function expandCudaOps(g: Graph): { expanded: Record<string, number> } {
  const expanded: Record<string, number> = {};
  const nodes = g.nodes.splice(0);
  for (const node of nodes) {
    const expand = node.domain === MS_DOMAIN ? EXPANSIONS[node.opType] : undefined;
    const outputs = expand && g.scope(`${node.name}/expanded`, () => expand(g, node));
    if (!outputs) {
      g.nodes.push(node);
      continue;
    }
    expanded[node.opType] = (expanded[node.opType] ?? 0) + 1;
    node.output.forEach((name, i) => {
      if (name === '') return;
      if (outputs[i] === undefined) throw new Error(`${node.opType}: output ${i} is not expanded`);
      g.nodes.push(
        onnx.NodeProto.create({ name: `${node.name}/expanded/output${i}`, opType: 'Identity', input: [outputs[i]], output: [name] }),
      );
    });
  }
  return { expanded };
}
