// Network pieces shared by the CLIP, UNet and VAE graphs, each numerically what torch does, in standard
// ONNX ops (opset 17) so that CPU, DirectML, WebGPU and CoreML all run them. Batch and sequence stay
// symbolic: reshapes use 0 (copy the dim) and -1 (infer it) instead of fixed sizes.
import { MS_DOMAIN, type AttrValue, type Graph } from './graph.ts';
import { rearrangedRef, reshapedRef, type WeightRef, type WeightSource } from '../import/weights.ts';
import { transposeBlock } from './transpose.ts';

/** Derived weights made once per graph and name (a transposed matrix used twice is stored once). */
const derived = new WeakMap<Graph, Map<string, string>>();

export function derivedWeight(g: Graph, name: string, make: () => WeightRef, float?: 'float32' | 'float16'): string {
  let known = derived.get(g);
  if (!known) derived.set(g, (known = new Map()));
  const existing = known.get(name);
  if (existing !== undefined) return existing;
  const value = g.weight(name, make(), float);
  known.set(name, value);
  return value;
}

/** A [rows, cols] matrix transposed to [cols, rows] when it is read (so no copy lives in memory before writing). */
export function transposedWeight(ref: WeightRef): WeightRef {
  if (ref.shape.length !== 2) throw new Error(`transposedWeight needs a matrix, got [${ref.shape.join(', ')}]`);
  const [rows, cols] = ref.shape;
  return rearrangedRef([ref], [cols, rows], ([source], out) => transposeBlock(source, 0, cols, rows, cols, out, 0, rows));
}

export function optionalWeight(g: Graph, w: WeightSource, name: string, shape?: number[]): string | undefined {
  if (!w.has(name)) return undefined;
  const ref = w.get(name);
  return shape ? derivedWeight(g, name, () => reshapedRef(ref, shape)) : g.weight(name, ref);
}

/**
 * x[..., in] @ W^T + b, for a torch Linear at `prefix` (weight [out, in], bias optional). `withoutBias` leaves the
 * bias to a fused op that follows (the CUDA flavour's SkipLayerNormalization, BiasSplitGelu, BiasAdd).
 */
export function linear(g: Graph, w: WeightSource, x: string, prefix: string, options: { withoutBias?: boolean } = {}): string {
  const weight = w.get(`${prefix}.weight`);
  return g.scope(prefix, () => {
    const transposed = derivedWeight(g, `${prefix}.weight.T`, () => transposedWeight(weight));
    const product = g.op('MatMul', [x, transposed]);
    const bias = options.withoutBias ? undefined : optionalWeight(g, w, `${prefix}.bias`);
    return bias === undefined ? product : g.op('Add', [product, bias]);
  });
}

/** Dims from..to (exclusive) of x's shape at run time, as an int64 vector. */
export function dimsOf(g: Graph, x: string, from: number, to: number): string {
  return g.op('Slice', [g.op('Shape', [x]), g.constant([from], 'int64'), g.constant([to], 'int64')]);
}

/**
 * A torch Conv2d at `prefix` on NCHW. `pad` is one number for every side (default kernel // 2) or ONNX's
 * [top, left, bottom, right] (torch's F.pad(x, (0, 1, 0, 1)) before a padding-0 conv is [0, 0, 1, 1]).
 */
export function conv2d(
  g: Graph,
  w: WeightSource,
  x: string,
  prefix: string,
  options: { stride?: number; pad?: number | [number, number, number, number] } = {},
): string {
  const ref = w.get(`${prefix}.weight`);
  if (ref.shape.length !== 4) throw new Error(`${prefix}.weight: a conv kernel is 4-d, got [${ref.shape.join(', ')}]`);
  const [, , kh, kw] = ref.shape;
  const pad = options.pad ?? Math.floor(kh / 2);
  const pads = typeof pad === 'number' ? [pad, pad, pad, pad] : pad;
  const stride = options.stride ?? 1;
  return g.scope(prefix, () => {
    const inputs = [x, g.weight(`${prefix}.weight`, ref)];
    const bias = optionalWeight(g, w, `${prefix}.bias`);
    if (bias !== undefined) inputs.push(bias);
    return g.op('Conv', inputs, { kernel_shape: [kh, kw], pads, strides: [stride, stride], dilations: [1, 1], group: 1 });
  });
}

/**
 * torch GroupNorm on NCHW: statistics over each group's channels and pixels. Done as Reshape [N, G, -1] ->
 * InstanceNormalization (unit scale, zero bias) -> Reshape back -> per-channel affine, since every target
 * provider runs InstanceNormalization and ONNX's own GroupNormalization (opset 18/21) is not on all of them.
 */
export function groupNorm(g: Graph, w: WeightSource, x: string, prefix: string, options: { groups: number; eps: number }): string {
  const gamma = w.get(`${prefix}.weight`);
  const channels = gamma.shape[0];
  if (channels % options.groups !== 0) throw new Error(`${prefix}: ${channels} channels do not split into ${options.groups} groups`);
  return g.scope(prefix, () => {
    const restored = normalizeGroups(g, x, options.groups, options.eps);
    const scale = derivedWeight(g, `${prefix}.weight`, () => reshapedRef(gamma, [channels, 1, 1]));
    const scaled = g.op('Mul', [restored, scale]);
    const beta = optionalWeight(g, w, `${prefix}.bias`, [channels, 1, 1]);
    return beta === undefined ? scaled : g.op('Add', [scaled, beta]);
  });
}

/** GroupNorm's statistics part on NCHW (no affine): each group's channels and pixels to zero mean, unit variance. */
export function normalizeGroups(g: Graph, x: string, groups: number, eps: number): string {
  const grouped = g.op('Reshape', [x, g.constant([0, groups, -1], 'int64')]);
  const ones = g.floatConstant(new Array(groups).fill(1), [groups]);
  const zeros = g.floatConstant(new Array(groups).fill(0), [groups]);
  const normalized = g.op('InstanceNormalization', [grouped, ones, zeros], { epsilon: { float: eps } });
  return g.op('Reshape', [normalized, g.op('Shape', [x])]);
}

/** torch LayerNorm over the last axis (LayerNormalization, opset 17). */
export function layerNorm(g: Graph, w: WeightSource, x: string, prefix: string, eps: number): string {
  return g.scope(prefix, () => {
    const scale = g.weight(`${prefix}.weight`, w.get(`${prefix}.weight`));
    const bias = optionalWeight(g, w, `${prefix}.bias`);
    const inputs = bias === undefined ? [x, scale] : [x, scale, bias];
    return g.op('LayerNormalization', inputs, { axis: -1, epsilon: { float: eps } });
  });
}

/** x * sigmoid(x). */
export function silu(g: Graph, x: string): string {
  return g.op('Mul', [x, g.op('Sigmoid', [x])], undefined, { name: 'SiLU' });
}

/** torch's default (exact) GELU: 0.5 x (1 + erf(x / sqrt 2)); ONNX has no Gelu op before opset 20. */
export function gelu(g: Graph, x: string): string {
  const erf = g.op('Erf', [g.op('Div', [x, g.floatConstant([Math.SQRT2])])], undefined, { name: 'GELU_erf' });
  const half = g.op('Mul', [x, g.floatConstant([0.5])]);
  return g.op('Mul', [half, g.op('Add', [erf, g.floatConstant([1])])], undefined, { name: 'GELU' });
}

/** CLIP's quick_gelu: x * sigmoid(1.702 x). */
export function quickGelu(g: Graph, x: string): string {
  const gate = g.op('Sigmoid', [g.op('Mul', [x, g.floatConstant([1.702])])]);
  return g.op('Mul', [x, gate], undefined, { name: 'QuickGELU' });
}

/**
 * Scaled dot-product attention: q [B, T, C], k and v [B, S, C] -> [B, T, C], `heads` heads of C / heads.
 * 'plain' is standard ops (Softmax(q k^T / sqrt(d) [+ causal mask]) v); 'mha' is onnxruntime's
 * com.microsoft MultiHeadAttention (CPU, CUDA, DirectML, WebGPU have it), with unidirectional=1 when causal.
 */
export function attention(
  g: Graph,
  q: string,
  k: string,
  v: string,
  heads: number,
  options: { causal?: boolean; mode: 'plain' | 'mha'; channels?: number },
): string {
  if (options.mode === 'mha') {
    const attrs: Record<string, AttrValue> = { num_heads: heads };
    if (options.causal) attrs.unidirectional = 1;
    return g.op('MultiHeadAttention', [q, k, v], attrs, { domain: MS_DOMAIN });
  }
  return plainAttention(g, q, k, v, heads, options.causal ?? false, options.channels);
}

function plainAttention(g: Graph, q: string, k: string, v: string, heads: number, causal: boolean, channels?: number): string {
  const split = g.constant([0, 0, heads, -1], 'int64');
  const toHeads = (x: string, perm: number[]) => g.op('Transpose', [g.op('Reshape', [x, split])], { perm });
  // 1/sqrt(d) is folded into q while it is still [B, T, C] (a Mul right before the MatMul becomes onnxruntime's
  // FusedMatMul, slower on CPU); d is known when the caller gives the channels, else read from q's shape.
  const scale = channels !== undefined ? g.floatConstant([1 / Math.sqrt(channels / heads)]) : headScale(g, q, heads);
  const queries = toHeads(g.op('Mul', [q, scale]), [0, 2, 1, 3]); // [B, H, T, d]
  const keys = toHeads(k, [0, 2, 3, 1]); // [B, H, d, S]
  const values = toHeads(v, [0, 2, 1, 3]); // [B, H, S, d]
  let scores = g.op('MatMul', [queries, keys]); // [B, H, T, S]
  if (causal) scores = g.op('Add', [scores, causalMask(g, q)]);
  const weights = g.op('Softmax', [scores], { axis: -1 });
  const mixed = g.op('Transpose', [g.op('MatMul', [weights, values])], { perm: [0, 2, 1, 3] }); // [B, T, H, d]
  return g.op('Reshape', [mixed, g.constant([0, 0, -1], 'int64')], undefined, { name: 'Attention' });
}

/** 1/sqrt(C / heads) from q's shape at run time, worked out in float32 (CPU has no float16 Sqrt) and cast. */
function headScale(g: Graph, q: string, heads: number): string {
  const channels = dimsOf(g, q, 2, 3);
  const d = g.op('Div', [g.op('Cast', [channels], { to: floatCode('float32') }), g.constant([heads], 'float32', [])]);
  return toGraphFloat(g, g.op('Reciprocal', [g.op('Sqrt', [d])]), 'HeadScale');
}

/**
 * [T, T] additive mask: 0 on and below the diagonal, the float type's lowest value above (torch.finfo.min,
 * as HF does), made in float32 and cast (float16 Mul has no CPU kernel to fold it with).
 */
function causalMask(g: Graph, q: string): string {
  const length = g.op('Gather', [g.op('Shape', [q]), g.constant([1], 'int64', [])], { axis: 0 });
  const positions = g.op('Range', [g.constant([0], 'int64', []), length, g.constant([1], 'int64', [])]);
  const rows = g.op('Unsqueeze', [positions, g.constant([1], 'int64')]);
  const cols = g.op('Unsqueeze', [positions, g.constant([0], 'int64')]);
  const future = g.op('Cast', [g.op('Greater', [cols, rows])], { to: floatCode('float32') });
  const lowest = g.float === 'float16' ? -65504 : -3.4028234663852886e38;
  return toGraphFloat(g, g.op('Mul', [future, g.constant([lowest], 'float32', [])]), 'CausalMask');
}

/** A float32 value in the graph's float type (float32 graphs use it as it is). */
export function toGraphFloat(g: Graph, value: string, name: string): string {
  return g.float === 'float32' ? value : g.op('Cast', [value], { to: floatCode(g.float) }, { name });
}

/** ONNX TensorProto type codes for Cast's `to`. */
export function floatCode(float: 'float32' | 'float16'): number {
  return float === 'float16' ? 10 : 1;
}
