// diffusers' Transformer2DModel on continuous NCHW input, as SD 1.x/2.x use it: GroupNorm (eps 1e-6) ->
// proj_in -> BasicTransformerBlocks over the H*W tokens -> proj_out -> + input. proj_in/proj_out are 1x1 convs
// applied on NCHW (SD 1) or Linears applied on tokens (use_linear_projection, SD 2): the reshape to tokens comes
// after the conv but before the Linear, and the reverse on the way out.
import type { Graph } from '../onnx/graph.ts';
import { attention, conv2d, dimsOf, gelu, groupNorm, layerNorm, linear } from '../onnx/layers.ts';
import { expectShape, type BlockContext } from './unet-blocks.ts';

/** Transformer2DModel's own GroupNorm epsilon (fixed in diffusers, not the config's norm_eps). */
export const TRANSFORMER_GROUP_NORM_EPS = 1e-6;
/** BasicTransformerBlock's LayerNorm epsilon (Transformer2DModel's norm_eps default; the UNet never sets it). */
export const LAYER_NORM_EPS = 1e-5;

export interface TransformerShape {
  channels: number;
  heads: number;
  layers: number;
  crossAttentionDim: number;
}

export function expectLinear(ctx: BlockContext, prefix: string, out: number, inp: number, bias: boolean): void {
  expectShape(ctx.w, `${prefix}.weight`, [out, inp]);
  if (bias) expectShape(ctx.w, `${prefix}.bias`, [out]);
}

export function expectLayerNorm(ctx: BlockContext, prefix: string, channels: number): void {
  expectShape(ctx.w, `${prefix}.weight`, [channels]);
  expectShape(ctx.w, `${prefix}.bias`, [channels]);
}

/** Every tensor of the Transformer2DModel at `prefix`, checked by name and shape; returns its inner width. */
export function expectTransformer(ctx: BlockContext, prefix: string, shape: TransformerShape): number {
  const { w } = ctx;
  const c = shape.channels;
  // diffusers: heads * (channels // heads); equal to the channels for every SD model.
  const inner = shape.heads * Math.floor(c / shape.heads);
  expectShape(w, `${prefix}.norm.weight`, [c]);
  expectShape(w, `${prefix}.norm.bias`, [c]);
  const projIn = ctx.linearProjection ? [inner, c] : [inner, c, 1, 1];
  const projOut = ctx.linearProjection ? [c, inner] : [c, inner, 1, 1];
  expectShape(w, `${prefix}.proj_in.weight`, projIn);
  expectShape(w, `${prefix}.proj_in.bias`, [inner]);
  expectShape(w, `${prefix}.proj_out.weight`, projOut);
  expectShape(w, `${prefix}.proj_out.bias`, [c]);
  for (let i = 0; i < shape.layers; i++) {
    const block = `${prefix}.transformer_blocks.${i}`;
    for (const norm of ['norm1', 'norm2', 'norm3']) expectLayerNorm(ctx, `${block}.${norm}`, inner);
    for (const [attn, contextDim] of [
      ['attn1', inner],
      ['attn2', shape.crossAttentionDim],
    ] as const) {
      expectLinear(ctx, `${block}.${attn}.to_q`, inner, inner, false);
      expectLinear(ctx, `${block}.${attn}.to_k`, inner, contextDim, false);
      expectLinear(ctx, `${block}.${attn}.to_v`, inner, contextDim, false);
      expectLinear(ctx, `${block}.${attn}.to_out.0`, inner, inner, true);
    }
    expectLinear(ctx, `${block}.ff.net.0.proj`, 8 * inner, inner, true);
    expectLinear(ctx, `${block}.ff.net.2`, inner, 4 * inner, true);
  }
  return inner;
}

/** [B, C, H, W] -> [B, H*W, C]. */
function toTokens(g: Graph, x: string, channels: number): string {
  return g.op('Transpose', [g.op('Reshape', [x, g.constant([0, channels, -1], 'int64')])], { perm: [0, 2, 1] });
}

/** [B, H*W, C] -> [B, C, H, W], H and W read from `like` at run time. */
function fromTokens(g: Graph, tokens: string, like: string, channels: number): string {
  const transposed = g.op('Transpose', [tokens], { perm: [0, 2, 1] });
  const batch = dimsOf(g, like, 0, 1);
  const spatial = dimsOf(g, like, 2, 4);
  const shape = g.op('Concat', [batch, g.constant([channels], 'int64'), spatial], { axis: 0 });
  return g.op('Reshape', [transposed, shape]);
}

/** diffusers Attention (to_q/to_k/to_v without bias, to_out.0 with), scale 1/sqrt(head dim). */
function attentionLayer(
  ctx: BlockContext,
  x: string,
  context: string,
  prefix: string,
  inner: number,
  contextDim: number,
  heads: number,
): string {
  const { g, w } = ctx;
  return g.scope(prefix, () => {
    const q = linear(g, w, x, `${prefix}.to_q`);
    const k = linear(g, w, context, `${prefix}.to_k`);
    const v = linear(g, w, context, `${prefix}.to_v`);
    const mixed = attention(g, q, k, v, heads, { mode: ctx.attention, channels: inner });
    return linear(g, w, mixed, `${prefix}.to_out.0`);
  });
}

/** FeedForward with GEGLU: proj to 2*ff, first half * gelu(second half), then net.2 back to `inner`. */
function feedForward(ctx: BlockContext, x: string, prefix: string, inner: number): string {
  const { g, w } = ctx;
  const ff = inner * 4;
  return g.scope(prefix, () => {
    const projected = linear(g, w, x, `${prefix}.net.0.proj`);
    const [hidden, gate] = g.opMulti('Split', [projected, g.constant([ff, ff], 'int64')], 2, { axis: -1 });
    return linear(g, w, g.op('Mul', [hidden, gelu(g, gate)]), `${prefix}.net.2`);
  });
}

/** BasicTransformerBlock: h += attn1(LN1 h); h += attn2(LN2 h, context); h += ff(LN3 h). */
function basicTransformerBlock(
  ctx: BlockContext,
  h: string,
  context: string,
  prefix: string,
  inner: number,
  shape: TransformerShape,
): string {
  const { g, w } = ctx;
  return g.scope(prefix, () => {
    let x = h;
    const n1 = layerNorm(g, w, x, `${prefix}.norm1`, LAYER_NORM_EPS);
    x = g.op('Add', [attentionLayer(ctx, n1, n1, `${prefix}.attn1`, inner, inner, shape.heads), x]);
    const n2 = layerNorm(g, w, x, `${prefix}.norm2`, LAYER_NORM_EPS);
    x = g.op('Add', [attentionLayer(ctx, n2, context, `${prefix}.attn2`, inner, shape.crossAttentionDim, shape.heads), x]);
    const n3 = layerNorm(g, w, x, `${prefix}.norm3`, LAYER_NORM_EPS);
    return g.op('Add', [feedForward(ctx, n3, `${prefix}.ff`, inner), x]);
  });
}

/** Transformer2DModel at `prefix` on x [B, C, H, W] with encoder_hidden_states `context` [B, S, cross]. */
export function transformer2d(ctx: BlockContext, x: string, context: string, prefix: string, shape: TransformerShape): string {
  const { g, w } = ctx;
  const c = shape.channels;
  const inner = expectTransformer(ctx, prefix, shape);
  return g.scope(prefix, () => {
    const normed = groupNorm(g, w, x, `${prefix}.norm`, { groups: ctx.groups, eps: TRANSFORMER_GROUP_NORM_EPS });
    let h = ctx.linearProjection
      ? linear(g, w, toTokens(g, normed, c), `${prefix}.proj_in`)
      : toTokens(g, conv2d(g, w, normed, `${prefix}.proj_in`, { pad: 0 }), inner);
    for (let i = 0; i < shape.layers; i++) h = basicTransformerBlock(ctx, h, context, `${prefix}.transformer_blocks.${i}`, inner, shape);
    const out = ctx.linearProjection
      ? fromTokens(g, linear(g, w, h, `${prefix}.proj_out`), x, c)
      : conv2d(g, w, fromTokens(g, h, x, inner), `${prefix}.proj_out`, { pad: 0 });
    return g.op('Add', [out, x]);
  });
}
