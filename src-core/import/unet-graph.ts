// The ONNX graph of diffusers' UNet2DConditionModel as SD 1.x, 2.x and SDXL use it, from its config.json and its
// weights by diffusers name. Inputs and output follow the diffusers-ONNX export the loader expects:
// sample [batch, C, height, width], timestep float32 [batch] (a [1] tensor is broadcast to the batch, as
// diffusers' expand does), encoder_hidden_states [batch, sequence, cross_attention_dim] -> out_sample; SDXL
// adds text_embeds [batch, projection_dim] and time_ids [batch, 6], as optimum exports them.
import { Graph, type BuildOptions } from '../onnx/graph.ts';
import { conv2d, dimsOf, groupNorm, silu } from '../onnx/layers.ts';
import {
  downsample,
  expectShape,
  resnetBlock,
  textTimeEmbedding,
  timestepEmbedding,
  timestepFeatures,
  upsample,
  type BlockContext,
  type ResnetShape,
} from './unet-blocks.ts';
import { CudaUNetBlocks } from './unet-cuda-blocks.ts';
import { planUNet, type UNetConfig, type UNetLevel } from './unet-config.ts';
import { transformer2d, type TransformerShape } from './unet-transformer.ts';
import { ImportError, type WeightSource } from './weights.ts';

/** SDXL base's time_ids: original height and width, crop top and left, target height and width. */
export const SDXL_TIME_IDS = 6;

export type { UNetConfig } from './unet-config.ts';
export { planUNet } from './unet-config.ts';

/** The blocks on feature maps, in the graph's layout: NCHW standard ops, or NHWC fused ops (unet-cuda-blocks.ts). */
interface UNetBlocks {
  enter(sample: string): string;
  leave(x: string): string;
  conv(x: string, prefix: string, options: { pad: number }): string;
  normSilu(x: string, prefix: string): string;
  concat(a: string, b: string): string;
  resnet(x: string, activeTemb: string, prefix: string, shape: ResnetShape): string;
  transformer(x: string, context: string, prefix: string, shape: TransformerShape): string;
  downsample(x: string, prefix: string, channels: number): string;
  upsample(x: string, like: string, prefix: string, channels: number): string;
}

function portableBlocks(ctx: BlockContext): UNetBlocks {
  const { g, w } = ctx;
  return {
    enter: (sample) => sample,
    leave: (x) => x,
    conv: (x, prefix, options) => conv2d(g, w, x, prefix, options),
    normSilu: (x, prefix) => silu(g, groupNorm(g, w, x, prefix, { groups: ctx.groups, eps: ctx.eps })),
    concat: (a, b) => g.op('Concat', [a, b], { axis: 1 }),
    resnet: (x, activeTemb, prefix, shape) => resnetBlock(ctx, x, activeTemb, prefix, shape),
    transformer: (x, context, prefix, shape) => transformer2d(ctx, x, context, prefix, shape),
    downsample: (x, prefix, channels) => downsample(ctx, x, prefix, channels),
    upsample: (x, like, prefix, channels) => upsample(ctx, x, like, prefix, channels),
  };
}

/** A value in the graph and its channel count (tracked so each block's weights can be checked). */
interface Feature {
  value: string;
  channels: number;
}

/** Builds the UNet graph; throws ImportError for an unsupported config or a missing or mis-shaped tensor. */
export function buildUNet(weights: WeightSource, config: UNetConfig, opts: BuildOptions): Graph {
  const plan = planUNet(config);
  const g = new Graph('unet', opts.float);
  const ctx: BlockContext = {
    g,
    w: weights,
    groups: plan.groups,
    eps: plan.eps,
    attention: opts.attention ?? 'plain',
    linearProjection: plan.linearProjection,
  };

  let sample = g.input('sample', opts.float, ['batch', plan.inChannels, 'height', 'width']);
  const timestep = g.input('timestep', 'float32', ['batch']);
  const context = g.input('encoder_hidden_states', opts.float, ['batch', 'sequence', plan.crossAttentionDim]);
  const textTime = plan.textTime;
  const textEmbedsDim = textTime ? textTime.inputDim - SDXL_TIME_IDS * textTime.timeEmbedDim : 0;
  if (textTime && textEmbedsDim <= 0) {
    throw new ImportError(
      `unet config: projection_class_embeddings_input_dim ${textTime.inputDim} leaves no room for text_embeds ` +
        `beside ${SDXL_TIME_IDS} time ids of ${textTime.timeEmbedDim} (an SDXL refiner's 5 time ids are not supported)`,
    );
  }
  const textEmbeds = textTime ? g.input('text_embeds', opts.float, ['batch', textEmbedsDim]) : '';
  const timeIds = textTime ? g.input('time_ids', opts.float, ['batch', SDXL_TIME_IDS]) : '';
  if (plan.centerInputSample) sample = g.op('Sub', [g.op('Mul', [sample, g.floatConstant([2])]), g.floatConstant([1])]);

  // Time embedding; every ResnetBlock2D applies SiLU to it first, so that is done once here.
  const batch = dimsOf(g, sample, 0, 1);
  const timesteps = g.op('Expand', [timestep, batch]);
  let temb = timestepEmbedding(ctx, timestepFeatures(g, timesteps, plan.timeChannels, plan), plan.timeChannels);
  const tembChannels = weights.get('time_embedding.linear_2.weight').shape[0];
  if (textTime) {
    const added = textTimeEmbedding(ctx, textEmbeds, timeIds, {
      ...textTime,
      embedDim: tembChannels,
      flipSinToCos: plan.flipSinToCos,
      freqShift: plan.freqShift,
    });
    temb = g.op('Add', [temb, added], undefined, { name: 'time_embedding_plus_add_embedding' });
  }
  const activeTemb = silu(g, temb);
  const blocks = opts.target === 'cuda' ? new CudaUNetBlocks(ctx) : portableBlocks(ctx);

  const inChannels = plan.down[0].channels;
  expectShape(weights, 'conv_in.weight', [inChannels, plan.inChannels, plan.convInKernel, plan.convInKernel]);
  expectShape(weights, 'conv_in.bias', [inChannels]);
  const convIn = blocks.conv(blocks.enter(sample), 'conv_in', { pad: (plan.convInKernel - 1) / 2 });
  let h: Feature = { value: convIn, channels: inChannels };

  const resnet = (x: Feature, prefix: string, channels: number, scale?: number): Feature => ({
    value: blocks.resnet(x.value, activeTemb, prefix, { inChannels: x.channels, outChannels: channels, tembChannels, scale }),
    channels,
  });
  const attend = (x: Feature, prefix: string, level: UNetLevel): Feature => ({
    value: blocks.transformer(x.value, context, prefix, {
      channels: x.channels,
      heads: level.heads,
      layers: level.transformerLayers,
      crossAttentionDim: level.crossAttentionDim,
    }),
    channels: x.channels,
  });

  // Down path: every resnet(+attention) output and every downsampled map is a skip connection.
  const skips: Feature[] = [h];
  plan.down.forEach((level, i) => {
    for (let j = 0; j < level.resnets; j++) {
      h = resnet(h, `down_blocks.${i}.resnets.${j}`, level.channels);
      if (level.crossAttention) h = attend(h, `down_blocks.${i}.attentions.${j}`, level);
      skips.push(h);
    }
    if (i < plan.down.length - 1) {
      h = { value: blocks.downsample(h.value, `down_blocks.${i}.downsamplers.0`, h.channels), channels: h.channels };
      skips.push(h);
    }
  });

  h = resnet(h, 'mid_block.resnets.0', plan.mid.channels, plan.midScaleFactor);
  h = attend(h, 'mid_block.attentions.0', plan.mid);
  h = resnet(h, 'mid_block.resnets.1', plan.mid.channels, plan.midScaleFactor);

  // Up path: each resnet takes the latest skip concatenated after the running features (diffusers' order).
  plan.up.forEach((level, i) => {
    for (let j = 0; j < level.resnets; j++) {
      const skip = skips.pop()!;
      h = { value: blocks.concat(h.value, skip.value), channels: h.channels + skip.channels };
      h = resnet(h, `up_blocks.${i}.resnets.${j}`, level.channels);
      if (level.crossAttention) h = attend(h, `up_blocks.${i}.attentions.${j}`, level);
    }
    if (i < plan.up.length - 1) {
      const next = skips[skips.length - 1];
      h = { value: blocks.upsample(h.value, next.value, `up_blocks.${i}.upsamplers.0`, h.channels), channels: h.channels };
    }
  });

  expectShape(weights, 'conv_norm_out.weight', [h.channels]);
  expectShape(weights, 'conv_norm_out.bias', [h.channels]);
  expectShape(weights, 'conv_out.weight', [plan.outChannels, h.channels, plan.convOutKernel, plan.convOutKernel]);
  expectShape(weights, 'conv_out.bias', [plan.outChannels]);
  const normed = blocks.normSilu(h.value, 'conv_norm_out');
  const out = blocks.leave(blocks.conv(normed, 'conv_out', { pad: (plan.convOutKernel - 1) / 2 }));
  g.output('out_sample', out, opts.float, ['batch', plan.outChannels, 'height', 'width']);
  return g;
}
