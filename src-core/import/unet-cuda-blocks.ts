// The UNet's blocks in the CUDA flavour (BuildOptions.target 'cuda'): the same network as unet-blocks.ts and
// unet-transformer.ts, on NHWC feature maps with onnxruntime's fused CUDA ops (onnx/cuda-layers.ts). Tokens are
// the NHWC map reshaped, so the transformer needs no transposes. Residual sums stay open until a GroupNorm or
// LayerNorm takes them: SkipGroupNorm and SkipLayerNormalization add and normalize in one kernel.
import { MS_DOMAIN, type Graph } from '../onnx/graph.ts';
import { dimsOf, layerNorm, linear } from '../onnx/layers.ts';
import {
  biasAdd,
  biasSplitGelu,
  nhwcConv,
  PACKED_PROJECTIONS,
  packedAttention,
  ResidualSums,
  skipGroupNorm,
  skipLayerNorm,
} from '../onnx/cuda-layers.ts';
import { expectLayer, expectResnet, resizeNearest, type BlockContext, type ResnetShape } from './unet-blocks.ts';
import { expectTransformer, LAYER_NORM_EPS, TRANSFORMER_GROUP_NORM_EPS, type TransformerShape } from './unet-transformer.ts';
import type { WeightSource } from './weights.ts';

/** x @ W^T for the Linear at `prefix`, its bias left to the fused op that follows. */
function project(g: Graph, w: WeightSource, x: string, prefix: string): string {
  return linear(g, w, x, prefix, { withoutBias: true });
}

function bias(g: Graph, w: WeightSource, prefix: string): string {
  return g.weight(`${prefix}.bias`, w.get(`${prefix}.bias`));
}

/** A token residual not summed yet: x + bias + skip, for the next SkipLayerNormalization or a BiasAdd. */
interface OpenSum {
  x: string;
  bias: string;
  skip: string;
}

export class CudaUNetBlocks {
  readonly sums: ResidualSums;

  constructor(private readonly ctx: BlockContext) {
    this.sums = new ResidualSums(ctx.g);
  }

  /** NCHW -> NHWC. */
  enter(sample: string): string {
    return this.ctx.g.op('Transpose', [sample], { perm: [0, 2, 3, 1] }, { name: 'to_nhwc' });
  }

  /** NHWC -> NCHW. */
  leave(x: string): string {
    return this.ctx.g.op('Transpose', [x], { perm: [0, 3, 1, 2] }, { name: 'to_nchw' });
  }

  conv(x: string, prefix: string, options: { stride?: number; pad?: number } = {}): string {
    return nhwcConv(this.ctx.g, this.ctx.w, x, prefix, options);
  }

  /** GroupNorm, then SiLU (the UNet's output norm and every ResnetBlock2D norm). */
  normSilu(x: string, prefix: string): string {
    return this.sums.groupNorm(this.ctx.w, x, prefix, { groups: this.ctx.groups, eps: this.ctx.eps, silu: true });
  }

  concat(a: string, b: string): string {
    return this.ctx.g.op('Concat', [a, b], { axis: 3 });
  }

  /** ResnetBlock2D (see unet-blocks.ts); the time projection is SkipGroupNorm's per-channel skip. */
  resnet(x: string, activeTemb: string, prefix: string, shape: ResnetShape): string {
    const { g, w, groups, eps } = this.ctx;
    expectResnet(w, prefix, shape);
    return g.scope(prefix, () => {
      let h = this.conv(this.normSilu(x, `${prefix}.norm1`), `${prefix}.conv1`, { pad: 1 });
      const temb = linear(g, w, activeTemb, `${prefix}.time_emb_proj`);
      h = skipGroupNorm(g, w, h, temb, `${prefix}.norm2`, { groups, eps, silu: true });
      h = this.conv(h, `${prefix}.conv2`, { pad: 1 });
      const shortcut = shape.inChannels === shape.outChannels ? x : this.conv(x, `${prefix}.conv_shortcut`, { pad: 0 });
      if (shape.scale === undefined || shape.scale === 1) return this.sums.add(shortcut, h);
      return g.op('Div', [g.op('Add', [shortcut, h]), g.floatConstant([shape.scale])]);
    });
  }

  downsample(x: string, prefix: string, channels: number): string {
    expectLayer(this.ctx.w, `${prefix}.conv`, [channels, channels, 3, 3]);
    return this.conv(x, `${prefix}.conv`, { stride: 2, pad: 1 });
  }

  /** Upsample2D on NHWC: nearest resize to `like`'s height and width (see unet-blocks.ts), then a 3x3 conv. */
  upsample(x: string, like: string, prefix: string, channels: number): string {
    const { g, w } = this.ctx;
    expectLayer(w, `${prefix}.conv`, [channels, channels, 3, 3]);
    const resized = g.scope(prefix, () => {
      return resizeNearest(g, x, g.op('Concat', [dimsOf(g, x, 0, 1), dimsOf(g, like, 1, 3), dimsOf(g, x, 3, 4)], { axis: 0 }));
    });
    return this.conv(resized, `${prefix}.conv`, { pad: 1 });
  }

  /** Transformer2DModel on NHWC x with encoder_hidden_states `context` (see unet-transformer.ts). */
  transformer(x: string, context: string, prefix: string, shape: TransformerShape): string {
    const { g, w } = this.ctx;
    const inner = expectTransformer(this.ctx, prefix, shape);
    return g.scope(prefix, () => {
      const groupShape = { groups: this.ctx.groups, eps: TRANSFORMER_GROUP_NORM_EPS, silu: false };
      const normed = this.sums.groupNorm(w, x, `${prefix}.norm`, groupShape);
      const toTokens = (map: string, channels: number) => g.op('Reshape', [map, g.constant([0, -1, channels], 'int64')]);
      let h = this.ctx.linearProjection
        ? linear(g, w, toTokens(normed, shape.channels), `${prefix}.proj_in`)
        : toTokens(this.conv(normed, `${prefix}.proj_in`, { pad: 0 }), inner);
      let open: OpenSum | undefined;
      for (let i = 0; i < shape.layers; i++) open = this.block(h, open, context, `${prefix}.transformer_blocks.${i}`, shape.heads);
      h = biasAdd(g, open!.x, open!.bias, open!.skip, inner);
      const map = (tokens: string, channels: number) =>
        g.op('Reshape', [tokens, g.op('Concat', [dimsOf(g, x, 0, 3), g.constant([channels], 'int64')], { axis: 0 })]);
      const out = this.ctx.linearProjection
        ? map(linear(g, w, h, `${prefix}.proj_out`), shape.channels)
        : this.conv(map(h, inner), `${prefix}.proj_out`, { pad: 0 });
      return this.sums.add(out, x);
    });
  }

  /**
   * BasicTransformerBlock on tokens `h` (or on the previous block's open sum): packed self-attention, cross-attention
   * with packed keys and values, GEGLU feed-forward; each residual is summed by the next norm. Returns its own open sum.
   */
  private block(h: string, previous: OpenSum | undefined, context: string, prefix: string, heads: number): OpenSum {
    const { g, w } = this.ctx;
    return g.scope(prefix, () => {
      let x = h,
        n1: string;
      if (previous)
        ({ normed: n1, sum: x } = skipLayerNorm(g, w, previous.x, previous.skip, previous.bias, `${prefix}.norm1`, LAYER_NORM_EPS));
      else n1 = layerNorm(g, w, h, `${prefix}.norm1`, LAYER_NORM_EPS);
      const [selfPacking, crossPacking] = PACKED_PROJECTIONS;
      const self = `${prefix}.${selfPacking.attention}`;
      const qkv = packedAttention(g, w, n1, self, selfPacking, heads);
      const a1 = project(g, w, this.attention([qkv], heads), `${self}.to_out.0`);
      const second = skipLayerNorm(g, w, a1, x, bias(g, w, `${self}.to_out.0`), `${prefix}.norm2`, LAYER_NORM_EPS);
      const cross = `${prefix}.${crossPacking.attention}`;
      const q = project(g, w, second.normed, `${cross}.to_q`);
      const kv = packedAttention(g, w, context, cross, crossPacking, heads);
      const a2 = project(g, w, this.attention([q, kv], heads), `${cross}.to_out.0`);
      const third = skipLayerNorm(g, w, a2, second.sum, bias(g, w, `${cross}.to_out.0`), `${prefix}.norm3`, LAYER_NORM_EPS);
      const ff = `${prefix}.ff`;
      const width = w.get(`${ff}.net.0.proj.weight`).shape[0];
      const gated = biasSplitGelu(g, project(g, w, third.normed, `${ff}.net.0.proj`), bias(g, w, `${ff}.net.0.proj`), width);
      return { x: project(g, w, gated, `${ff}.net.2`), bias: bias(g, w, `${ff}.net.2`), skip: third.sum };
    });
  }

  private attention(inputs: string[], heads: number): string {
    return this.ctx.g.op('MultiHeadAttention', inputs, { num_heads: heads }, { domain: MS_DOMAIN });
  }
}
