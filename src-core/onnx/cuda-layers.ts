// The CUDA flavour's network pieces: NHWC feature maps and onnxruntime's fused com.microsoft ops, the ones its
// transformer optimizer leaves in a Stable Diffusion UNet (NhwcConv, GroupNorm and SkipGroupNorm with the SiLU
// folded in, BiasSplitGelu, BiasAdd, SkipLayerNormalization, MultiHeadAttention with packed QKV / KV).
// GroupNorm, SkipGroupNorm, NhwcConv, BiasSplitGelu and BiasAdd have CUDA kernels only; the op semantics used
// here are those of onnxruntime's docs/ContribOperators.md.
// Sizes the CUDA kernels refuse at run time get the same arithmetic in standard ops instead.
import { MS_DOMAIN, type Graph } from './graph.ts';
import { derivedWeight, gelu, groupNorm, optionalWeight, silu } from './layers.ts';
import { rearrangedRef, type WeightRef, type WeightSource } from '../import/weights.ts';
import { transposeBlock } from './transpose.ts';

/** The CUDA graph's name for a conv kernel laid out channels-last (the LoRA patcher and the importer look it up). */
export const channelsLastName = (weight: string): string => `${weight}.nhwc`;

/**
 * Attention's projections packed into one matrix in the CUDA graph (packedProjection): self-attention's q, k, v and
 * cross-attention's k, v, in this order, named "<attention>.<packed>" (the importer builds them, the LoRA patcher
 * finds them).
 */
export const PACKED_PROJECTIONS = [
  { attention: 'attn1', packed: 'to_qkv', parts: ['q', 'k', 'v'] },
  { attention: 'attn2', packed: 'to_kv', parts: ['k', 'v'] },
] as const;

/** A torch conv kernel [M, C, kH, kW] read as NhwcConv's [M, kH, kW, C]. */
export function channelsLastKernel(ref: WeightRef): WeightRef {
  const [m, c, kh, kw] = ref.shape;
  const plane = kh * kw;
  return rearrangedRef([ref], [m, kh, kw, c], ([source], out) => {
    // Each output channel's [C, kH * kW] block fits the cache: tiles would not help (reports/gpu-bench/layout-transposes-ab.ts).
    for (let o = 0; o < m; o++)
      for (let i = 0; i < c; i++) for (let p = 0; p < plane; p++) out[(o * plane + p) * c + i] = source[(o * c + i) * plane + p];
  });
}

/** A torch Conv2d at `prefix` on NHWC (NhwcConv); `pad` as in layers.ts's conv2d. */
export function nhwcConv(g: Graph, w: WeightSource, x: string, prefix: string, options: { stride?: number; pad?: number } = {}): string {
  const ref = w.get(`${prefix}.weight`);
  if (ref.shape.length !== 4) throw new Error(`${prefix}.weight: a conv kernel is 4-d, got [${ref.shape.join(', ')}]`);
  const [, , kh, kw] = ref.shape;
  const pad = options.pad ?? Math.floor(kh / 2);
  const stride = options.stride ?? 1;
  return g.scope(prefix, () => {
    const inputs = [x, derivedWeight(g, channelsLastName(`${prefix}.weight`), () => channelsLastKernel(ref))];
    const bias = optionalWeight(g, w, `${prefix}.bias`);
    if (bias !== undefined) inputs.push(bias);
    const attrs = { kernel_shape: [kh, kw], pads: [pad, pad, pad, pad], strides: [stride, stride], dilations: [1, 1], group: 1 };
    return g.op('NhwcConv', inputs, attrs, { domain: MS_DOMAIN });
  });
}

export interface GroupNormShape {
  groups: number;
  eps: number;
  /** SiLU after the normalization, in the same kernel. */
  silu: boolean;
}

/** The CUDA GroupNorm kernels take an even number of channels per group, at most 512. */
function fusableGroups(w: WeightSource, prefix: string, groups: number): boolean {
  const perGroup = w.get(`${prefix}.weight`).shape[0] / groups;
  return perGroup % 2 === 0 && perGroup <= 512;
}

/** BiasSplitGelu's CUDA kernel takes these widths (before the split) only. */
const SPLIT_GELU_WIDTHS = new Set([2560, 5120, 10240]);
/** BiasAdd's CUDA kernel takes these channel counts only. */
const BIAS_ADD_CHANNELS = new Set([320, 640, 1280]);

/** GroupNorm's gamma and beta: float32 in every graph (the kernel takes them so in fp16 graphs too). */
function normScales(g: Graph, w: WeightSource, prefix: string): [string, string] {
  const scale = (name: string) => derivedWeight(g, `${prefix}.${name}.f32`, () => w.get(`${prefix}.${name}`), 'float32');
  return [scale('weight'), scale('bias')];
}

function groupNormAttrs(shape: GroupNormShape) {
  return { activation: shape.silu ? 1 : 0, channels_last: 1, epsilon: { float: shape.eps }, groups: shape.groups };
}

/** torch GroupNorm (then SiLU when `silu`) on NHWC. */
export function nhwcGroupNorm(g: Graph, w: WeightSource, x: string, prefix: string, shape: GroupNormShape): string {
  if (!fusableGroups(w, prefix, shape.groups)) return unfusedGroupNorm(g, w, x, prefix, shape);
  return g.scope(prefix, () => g.op('GroupNorm', [x, ...normScales(g, w, prefix)], groupNormAttrs(shape), { domain: MS_DOMAIN }));
}

/** The portable GroupNorm between transposes, for group sizes the kernel refuses. */
function unfusedGroupNorm(g: Graph, w: WeightSource, x: string, prefix: string, shape: GroupNormShape): string {
  const nchw = g.op('Transpose', [x], { perm: [0, 3, 1, 2] });
  const normed = groupNorm(g, w, nchw, prefix, { groups: shape.groups, eps: shape.eps });
  return g.op('Transpose', [shape.silu ? silu(g, normed) : normed], { perm: [0, 2, 3, 1] });
}

/** GroupNorm(x + skip) on NHWC, where skip is [N, C] (added to every pixel); the sum itself is not kept. */
export function skipGroupNorm(g: Graph, w: WeightSource, x: string, skip: string, prefix: string, shape: GroupNormShape): string {
  if (!fusableGroups(w, prefix, shape.groups)) {
    const sum = g.op('Add', [x, g.op('Unsqueeze', [skip, g.constant([1, 2], 'int64')])]);
    return unfusedGroupNorm(g, w, sum, prefix, shape);
  }
  return g.scope(prefix, () => g.op('SkipGroupNorm', [x, ...normScales(g, w, prefix), skip], groupNormAttrs(shape), { domain: MS_DOMAIN }));
}

/**
 * Sums `a + b` of two NHWC maps of one shape, remembering them so that a GroupNorm of the sum later becomes one
 * SkipGroupNorm that also returns the sum (the Add node is replaced in place; other users of the sum are unchanged).
 */
export class ResidualSums {
  private readonly pending = new Map<string, [string, string]>();

  constructor(private readonly g: Graph) {}

  add(a: string, b: string): string {
    const sum = this.g.op('Add', [a, b]);
    this.pending.set(sum, [a, b]);
    return sum;
  }

  /** GroupNorm of x: fused with the Add that made x when there is one not fused yet. */
  groupNorm(w: WeightSource, x: string, prefix: string, shape: GroupNormShape): string {
    const parts = this.pending.get(x);
    if (!parts || !fusableGroups(w, prefix, shape.groups)) return nhwcGroupNorm(this.g, w, x, prefix, shape);
    this.pending.delete(x);
    const g = this.g;
    return g.scope(prefix, () => {
      const [normed] = g.replaceProducer(
        x,
        'SkipGroupNorm',
        [parts[0], ...normScales(g, w, prefix), parts[1]],
        2,
        1,
        groupNormAttrs(shape),
        {
          domain: MS_DOMAIN,
        },
      );
      return normed;
    });
  }
}

/** The feed-forward's GEGLU on its projection without bias: (x + b)[..., :D/2] * gelu((x + b)[..., D/2:]), D = `width`. */
export function biasSplitGelu(g: Graph, x: string, bias: string, width: number): string {
  if (SPLIT_GELU_WIDTHS.has(width)) return g.op('BiasSplitGelu', [x, bias], undefined, { domain: MS_DOMAIN });
  const half = width / 2;
  const [hidden, gate] = g.opMulti('Split', [g.op('Add', [x, bias]), g.constant([half, half], 'int64')], 2, { axis: -1 });
  return g.op('Mul', [hidden, gelu(g, gate)]);
}

/** x + bias + skip on [B, S, C] tokens, C = `channels`. */
export function biasAdd(g: Graph, x: string, bias: string, skip: string, channels: number): string {
  if (BIAS_ADD_CHANNELS.has(channels)) return g.op('BiasAdd', [x, bias, skip], undefined, { domain: MS_DOMAIN });
  return g.op('Add', [g.op('Add', [x, bias]), skip]);
}

/** LayerNorm(x + skip + bias) over the last axis, and the sum (the next residual). */
export function skipLayerNorm(
  g: Graph,
  w: WeightSource,
  x: string,
  skip: string,
  bias: string,
  prefix: string,
  eps: number,
): { normed: string; sum: string } {
  return g.scope(prefix, () => {
    const gamma = g.weight(`${prefix}.weight`, w.get(`${prefix}.weight`));
    const beta = g.weight(`${prefix}.bias`, w.get(`${prefix}.bias`));
    // Outputs 1 and 2 (mean, inverse deviation) are training outputs the inference kernels leave unnamed.
    const [normed, , , sum] = g.opMulti(
      'SkipLayerNormalization',
      [x, skip, gamma, beta, bias],
      4,
      { epsilon: { float: eps } },
      {
        domain: MS_DOMAIN,
        unnamed: [1, 2],
      },
    );
    return { normed, sum };
  });
}

/**
 * Linears [out, in] at `prefixes` (to_q, to_k, to_v or to_k, to_v) as one [in, heads * parts * d] matrix whose
 * product reshapes to MultiHeadAttention's packed [B, S, heads, parts, d]: column (n * parts + p) * d + i is
 * row n * d + i of linear p.
 */
export function packedHeadsWeight(refs: WeightRef[], heads: number): WeightRef {
  const [out, inp] = refs[0].shape;
  const d = out / heads,
    parts = refs.length;
  return rearrangedRef(refs, [inp, out * parts], (sources, result) => {
    sources.forEach((source, p) => {
      // Head n's d rows of linear p, transposed into its d columns.
      for (let n = 0; n < heads; n++) transposeBlock(source, n * d * inp, inp, d, inp, result, (n * parts + p) * d, out * parts);
    });
  });
}

/** One of PACKED_PROJECTIONS for the attention at `prefix` ("<block>.attn1"), on x (packedProjection). */
export function packedAttention(
  g: Graph,
  w: WeightSource,
  x: string,
  prefix: string,
  packing: (typeof PACKED_PROJECTIONS)[number],
  heads: number,
): string {
  const linears = packing.parts.map((part) => `${prefix}.to_${part}`);
  return packedProjection(g, w, x, linears, heads, `${prefix}.${packing.packed}`);
}

/** x @ packed(linears) reshaped to [B, S, heads, parts, d] (no bias: diffusers' q, k, v have none). */
export function packedProjection(g: Graph, w: WeightSource, x: string, prefixes: string[], heads: number, name: string): string {
  const refs = prefixes.map((p) => w.get(`${p}.weight`));
  const weight = derivedWeight(g, name, () => packedHeadsWeight(refs, heads));
  const product = g.op('MatMul', [x, weight]);
  return g.op('Reshape', [product, g.constant([0, 0, heads, prefixes.length, -1], 'int64')]);
}
