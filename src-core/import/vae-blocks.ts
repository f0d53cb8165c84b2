// The pieces of diffusers' AutoencoderKL (v0.30.3) as ONNX subgraphs: its ResnetBlock2D (no time
// embedding), the mid block's one-head self-attention, and the encoder's and decoder's resamplers.
// Every tensor is checked against the shape the config implies, so a mismatched checkpoint fails
// here with the tensor's name instead of inside onnxruntime. Activations are NCHW throughout.
import type { Graph } from '../onnx/graph.ts';
import { attention, conv2d, groupNorm, linear, silu } from '../onnx/layers.ts';
import { ImportError, reshapedRef, type WeightRef, type WeightSource } from './weights.ts';

/** diffusers builds every VAE norm (resnets, attention, conv_norm_out) with eps 1e-6. */
export const VAE_NORM_EPS = 1e-6;

/** Throws ImportError unless tensor `name` exists with exactly `shape`. */
export function expectTensor(w: WeightSource, name: string, shape: readonly number[]): WeightRef {
  const ref = w.get(name);
  if (!sameShape(ref.shape, shape)) {
    throw new ImportError(`tensor ${name} has shape [${ref.shape.join(', ')}], the VAE config implies [${shape.join(', ')}]`);
  }
  return ref;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** A k x k convolution with bias, 'same' padding at stride 1 (every VAE convolution but the downsampler's). */
export function conv(g: Graph, w: WeightSource, x: string, prefix: string, channels: { in: number; out: number; kernel: 1 | 3 }): string {
  expectTensor(w, `${prefix}.weight`, [channels.out, channels.in, channels.kernel, channels.kernel]);
  expectTensor(w, `${prefix}.bias`, [channels.out]);
  return conv2d(g, w, x, prefix, { stride: 1, pad: (channels.kernel - 1) / 2 });
}

/** torch.nn.GroupNorm(groups, channels, eps 1e-6) with its affine weight and bias. */
export function norm(g: Graph, w: WeightSource, x: string, prefix: string, channels: number, groups: number): string {
  expectTensor(w, `${prefix}.weight`, [channels]);
  expectTensor(w, `${prefix}.bias`, [channels]);
  return groupNorm(g, w, x, prefix, { groups, eps: VAE_NORM_EPS });
}

/**
 * ResnetBlock2D without a time embedding (temb_channels None, output_scale_factor 1):
 * conv2(silu(norm2(conv1(silu(norm1(x)))))) + shortcut(x), the shortcut a 1x1 conv when the channels change.
 */
export function resnetBlock(
  g: Graph,
  w: WeightSource,
  x: string,
  prefix: string,
  channels: { in: number; out: number; groups: number },
): string {
  return g.scope(prefix, () => {
    let h = silu(g, norm(g, w, x, `${prefix}.norm1`, channels.in, channels.groups));
    h = conv(g, w, h, `${prefix}.conv1`, { in: channels.in, out: channels.out, kernel: 3 });
    h = silu(g, norm(g, w, h, `${prefix}.norm2`, channels.out, channels.groups));
    h = conv(g, w, h, `${prefix}.conv2`, { in: channels.out, out: channels.out, kernel: 3 });
    const shortcut =
      channels.in === channels.out ? x : conv(g, w, x, `${prefix}.conv_shortcut`, { in: channels.in, out: channels.out, kernel: 1 });
    return g.op('Add', [shortcut, h]);
  });
}

/**
 * Downsample2D as the encoder builds it (padding 0): zero-pad one row at the bottom and one column at
 * the right, then a 3x3 convolution of stride 2 without padding. Weights `PREFIX.conv.*`.
 */
export function downsample(g: Graph, w: WeightSource, x: string, prefix: string, channels: number): string {
  return g.scope(prefix, () => {
    expectTensor(w, `${prefix}.conv.weight`, [channels, channels, 3, 3]);
    expectTensor(w, `${prefix}.conv.bias`, [channels]);
    // The Conv's own zero padding, [top, left, bottom, right]: the same as padding first, in one op.
    return conv2d(g, w, x, `${prefix}.conv`, { stride: 2, pad: [0, 0, 1, 1] });
  });
}

/** Upsample2D: nearest-neighbour x2 (torch's: output pixel i reads input floor(i / 2)), then a 3x3 conv. */
export function upsample(g: Graph, w: WeightSource, x: string, prefix: string, channels: number): string {
  return g.scope(prefix, () => {
    const scales = g.constant([1, 1, 2, 2], 'float32');
    const up = g.op('Resize', [x, '', scales], { mode: 'nearest', coordinate_transformation_mode: 'asymmetric', nearest_mode: 'floor' });
    return conv(g, w, up, `${prefix}.conv`, { in: channels, out: channels, kernel: 3 });
  });
}

/**
 * The mid block's Attention (_from_deprecated_attn_block): GroupNorm, then self-attention over the
 * H*W positions with ONE head of all C channels (attention_head_dim = C), softmax(QK^T / sqrt(C)) V,
 * to_out.0, plus the block's input (residual_connection, rescale_output_factor 1).
 */
export function midAttention(
  g: Graph,
  w: WeightSource,
  x: string,
  prefix: string,
  channels: number,
  groups: number,
  mode: 'plain' | 'mha',
): string {
  const source = attentionWeights(w, prefix, channels);
  return g.scope(prefix, () => {
    const normed = norm(g, source, x, `${prefix}.group_norm`, channels, groups);
    // [B, C, H, W] -> [B, C, H*W] -> [B, H*W, C]
    const flat = g.op('Reshape', [normed, g.constant([0, 0, -1], 'int64')]);
    const tokens = g.op('Transpose', [flat], { perm: [0, 2, 1] });
    const q = linear(g, source, tokens, `${prefix}.to_q`);
    const k = linear(g, source, tokens, `${prefix}.to_k`);
    const v = linear(g, source, tokens, `${prefix}.to_v`);
    const attended = linear(g, source, attention(g, q, k, v, 1, { mode, channels }), `${prefix}.to_out.0`);
    // [B, H*W, C] -> [B, C, H*W] -> the input's [B, C, H, W]
    const back = g.op('Transpose', [attended], { perm: [0, 2, 1] });
    const spatial = g.op('Reshape', [back, g.op('Shape', [x])]);
    return g.op('Add', [spatial, x]);
  });
}

/** diffusers' current names for the attention's projections, with the names older diffusers folders use. */
const ATTENTION_NAMES: ReadonlyArray<[current: string, legacy: string]> = [
  ['to_q', 'query'],
  ['to_k', 'key'],
  ['to_v', 'value'],
  ['to_out.0', 'proj_attn'],
];

/**
 * The attention's weights under their current names as [C, C] matrices: folders saved by diffusers
 * before 0.14 (the SD 1.5 repository's VAE among them) name them query/key/value/proj_attn, and the
 * LDM layout stores them as 1x1 convolutions [C, C, 1, 1], which hold the same values in the same order.
 */
function attentionWeights(w: WeightSource, prefix: string, channels: number): WeightSource {
  const renamed = new Map<string, WeightRef>();
  for (const [current, legacy] of ATTENTION_NAMES) {
    const base =
      !w.has(`${prefix}.${current}.weight`) && w.has(`${prefix}.${legacy}.weight`) ? `${prefix}.${legacy}` : `${prefix}.${current}`;
    const weight = w.get(`${base}.weight`);
    if (sameShape(weight.shape, [channels, channels, 1, 1])) {
      renamed.set(`${prefix}.${current}.weight`, reshapedRef(weight, [channels, channels]));
    } else {
      renamed.set(`${prefix}.${current}.weight`, expectTensor(w, `${base}.weight`, [channels, channels]));
    }
    renamed.set(`${prefix}.${current}.bias`, expectTensor(w, `${base}.bias`, [channels]));
  }
  return {
    has: (name) => renamed.has(name) || w.has(name),
    get: (name) => renamed.get(name) ?? w.get(name),
    names: () => [...new Set([...renamed.keys(), ...w.names()])],
  };
}
