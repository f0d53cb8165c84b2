// The pieces of diffusers' UNet2DConditionModel (v0.30) as ONNX subgraphs: the sinusoidal timestep embedding,
// ResnetBlock2D, Transformer2DModel with its BasicTransformerBlocks (self-attention, cross-attention, GEGLU
// feed-forward), Downsample2D and Upsample2D. Weight names are diffusers' module paths; every weight's shape
// is checked against the architecture first, so a mis-shaped tensor is reported by name, not by onnxruntime.
import type { Graph } from '../onnx/graph.ts';
import { conv2d, dimsOf, floatCode, groupNorm, linear, silu } from '../onnx/layers.ts';
import { ImportError, type WeightSource } from './weights.ts';

/** What every block needs besides its own inputs. */
export interface BlockContext {
  g: Graph;
  w: WeightSource;
  groups: number;
  /** ResnetBlock2D's and the output GroupNorm's epsilon (config norm_eps). */
  eps: number;
  attention: 'plain' | 'mha';
  linearProjection: boolean;
}

/** Throws ImportError unless `name` is there with exactly `shape`. */
export function expectShape(w: WeightSource, name: string, shape: number[]): void {
  const actual = w.get(name).shape;
  if (actual.length !== shape.length || actual.some((d, i) => d !== shape[i])) {
    throw new ImportError(`tensor ${name} has shape [${actual.join(', ')}], expected [${shape.join(', ')}]`);
  }
}

/** A Linear's or a Conv's weight and (when `bias`) bias shapes; a bias that is there must fit even when optional. */
export function expectLayer(w: WeightSource, prefix: string, weight: number[], bias: 'required' | 'optional' | 'none' = 'required'): void {
  expectShape(w, `${prefix}.weight`, weight);
  if (bias === 'required' || (bias === 'optional' && w.has(`${prefix}.bias`))) expectShape(w, `${prefix}.bias`, [weight[0]]);
  if (bias === 'none' && w.has(`${prefix}.bias`)) throw new ImportError(`tensor ${prefix}.bias is not expected (the layer has no bias)`);
}

export function expectNorm(w: WeightSource, prefix: string, channels: number): void {
  expectShape(w, `${prefix}.weight`, [channels]);
  expectShape(w, `${prefix}.bias`, [channels]);
}

/**
 * The frequencies of diffusers' Timesteps (get_timestep_embedding) in float32 as torch computes them:
 * exp(-ln(10000) * i / (half - shift)) for i < half, every step rounded to float32.
 */
export function timestepFrequencies(channels: number, freqShift: number): Float32Array {
  const half = Math.floor(channels / 2);
  const logMax = Math.fround(-Math.log(10000));
  const divisor = Math.fround(half - freqShift);
  return Float32Array.from({ length: half }, (_, i) => Math.fround(Math.exp(Math.fround(Math.fround(logMax * i) / divisor))));
}

/**
 * diffusers' Timesteps: t float32 [B] -> [B, channels], cat(cos, sin) when flipSinToCos else cat(sin, cos),
 * computed in float32 and then cast to the graph's float type (diffusers casts to the sample's dtype).
 */
export function timestepFeatures(g: Graph, t: string, channels: number, options: { flipSinToCos: boolean; freqShift: number }): string {
  const freqs = timestepFrequencies(channels, options.freqShift);
  return g.scope('time_proj', () => {
    const args = g.op('Mul', [g.op('Unsqueeze', [t, g.constant([1], 'int64')]), g.constant([...freqs], 'float32', [1, freqs.length])]);
    const sin = g.op('Sin', [args]),
      cos = g.op('Cos', [args]);
    const parts = options.flipSinToCos ? [cos, sin] : [sin, cos];
    let features = g.op('Concat', parts, { axis: 1 });
    // An odd channel count gets one zero column at the end, as in diffusers.
    if (channels % 2 === 1) features = g.op('Pad', [features, g.constant([0, 0, 0, 1], 'int64')]);
    return g.float === 'float32' ? features : g.op('Cast', [features], { to: floatCode(g.float) });
  });
}

/** TimestepEmbedding at `time_embedding`: linear_1 -> SiLU -> linear_2, [B, channels] -> [B, time_embed_dim]. */
export function timestepEmbedding(ctx: BlockContext, features: string, channels: number): string {
  const { g, w } = ctx;
  const embedDim = w.get('time_embedding.linear_1.weight').shape[0];
  expectLayer(w, 'time_embedding.linear_1', [embedDim, channels]);
  expectLayer(w, 'time_embedding.linear_2', [embedDim, embedDim]);
  return linear(g, w, silu(g, linear(g, w, features, 'time_embedding.linear_1')), 'time_embedding.linear_2');
}

/**
 * SDXL's "text_time" addition embedding: the sinusoidal features (time_proj's flip and shift) of each of the
 * time_ids [B, n] (original size, crop, target size), [B, n * timeEmbedDim], after text_embeds [B, proj] ->
 * add_embedding (linear_1 -> SiLU -> linear_2), [B, time_embed_dim], which the UNet adds to the time embedding.
 */
export function textTimeEmbedding(
  ctx: BlockContext,
  textEmbeds: string,
  timeIds: string,
  shape: {
    timeEmbedDim: number;
    inputDim: number;
    embedDim: number;
    flipSinToCos: boolean;
    freqShift: number;
  },
): string {
  const { g, w } = ctx;
  expectLayer(w, 'add_embedding.linear_1', [shape.embedDim, shape.inputDim]);
  expectLayer(w, 'add_embedding.linear_2', [shape.embedDim, shape.embedDim]);
  return g.scope('add_embedding', () => {
    // diffusers flattens time_ids and takes their features in float32 (get_timestep_embedding casts to float).
    const ids = g.op('Reshape', [g.op('Cast', [timeIds], { to: floatCode('float32') }), g.constant([-1], 'int64')]);
    const features = g.scope('add_time_proj', () => timestepFeatures(g, ids, shape.timeEmbedDim, shape));
    const rows = g.op('Reshape', [features, g.op('Concat', [dimsOf(g, textEmbeds, 0, 1), g.constant([-1], 'int64')], { axis: 0 })]);
    const joined = g.op('Concat', [textEmbeds, rows], { axis: 1 });
    return linear(g, w, silu(g, linear(g, w, joined, 'add_embedding.linear_1')), 'add_embedding.linear_2');
  });
}

/**
 * ResnetBlock2D ("default" time embedding norm): GroupNorm -> SiLU -> conv1 (+ time_emb_proj(SiLU(temb)) per
 * channel) -> GroupNorm -> SiLU -> conv2, plus the input (through a 1x1 conv_shortcut when the channel count
 * changes), divided by `scale` (output_scale_factor). `activeTemb` is SiLU(temb), shared by all blocks.
 */
export function resnetBlock(ctx: BlockContext, x: string, activeTemb: string, prefix: string, shape: ResnetShape): string {
  const { g, w, groups, eps } = ctx;
  const { inChannels: cin, outChannels: cout } = shape;
  expectResnet(w, prefix, shape);
  return g.scope(prefix, () => {
    let h = conv2d(g, w, silu(g, groupNorm(g, w, x, `${prefix}.norm1`, { groups, eps })), `${prefix}.conv1`, { pad: 1 });
    const temb = g.op('Unsqueeze', [linear(g, w, activeTemb, `${prefix}.time_emb_proj`), g.constant([2, 3], 'int64')]);
    h = g.op('Add', [h, temb]);
    h = conv2d(g, w, silu(g, groupNorm(g, w, h, `${prefix}.norm2`, { groups, eps })), `${prefix}.conv2`, { pad: 1 });
    const shortcut = cin === cout ? x : conv2d(g, w, x, `${prefix}.conv_shortcut`, { pad: 0 });
    const sum = g.op('Add', [shortcut, h]);
    return shape.scale === undefined || shape.scale === 1 ? sum : g.op('Div', [sum, g.floatConstant([shape.scale])]);
  });
}

export interface ResnetShape {
  inChannels: number;
  outChannels: number;
  tembChannels: number;
  scale?: number;
}

/** ResnetBlock2D's tensors at `prefix`, each checked by name and shape. */
export function expectResnet(w: WeightSource, prefix: string, shape: ResnetShape): void {
  const { inChannels: cin, outChannels: cout } = shape;
  expectNorm(w, `${prefix}.norm1`, cin);
  expectLayer(w, `${prefix}.conv1`, [cout, cin, 3, 3]);
  expectLayer(w, `${prefix}.time_emb_proj`, [cout, shape.tembChannels]);
  expectNorm(w, `${prefix}.norm2`, cout);
  expectLayer(w, `${prefix}.conv2`, [cout, cout, 3, 3]);
  if (cin !== cout) expectLayer(w, `${prefix}.conv_shortcut`, [cout, cin, 1, 1]);
}

/** Downsample2D with a conv: 3x3, stride 2, padding 1 (`downsamplers.0.conv`). */
export function downsample(ctx: BlockContext, x: string, prefix: string, channels: number): string {
  expectLayer(ctx.w, `${prefix}.conv`, [channels, channels, 3, 3]);
  return conv2d(ctx.g, ctx.w, x, `${prefix}.conv`, { stride: 2, pad: 1 });
}

/**
 * Upsample2D: nearest-neighbour resize to the spatial size of `like` (the skip connection the next up block
 * takes first), then a 3x3 conv. That is 2x for even sizes; for odd latent sizes it is the explicit
 * upsample_size diffusers passes, with torch's legacy "nearest" (source index floor(dst * in / out)).
 */
export function upsample(ctx: BlockContext, x: string, like: string, prefix: string, channels: number): string {
  const { g, w } = ctx;
  expectLayer(w, `${prefix}.conv`, [channels, channels, 3, 3]);
  const resized = g.scope(prefix, () => {
    const head = dimsOf(g, x, 0, 2);
    const spatial = dimsOf(g, like, 2, 4);
    return resizeNearest(g, x, g.op('Concat', [head, spatial], { axis: 0 }));
  });
  return conv2d(g, w, resized, `${prefix}.conv`, { pad: 1 });
}

/** x resized to `sizes` (all its dims) with torch's legacy "nearest": source index floor(dst * in / out). */
export function resizeNearest(g: Graph, x: string, sizes: string): string {
  return g.op('Resize', [x, '', '', sizes], { mode: 'nearest', coordinate_transformation_mode: 'asymmetric', nearest_mode: 'floor' });
}
