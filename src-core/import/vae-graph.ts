// AutoencoderKL (diffusers v0.30.3) as two ONNX graphs, the decoder and the encoder, from the VAE's
// diffusers config.json and its weights under diffusers' names (decoder.*, encoder.*, quant_conv,
// post_quant_conv). The blocks themselves are in vae-blocks.ts.
import { Graph, type BuildOptions } from '../onnx/graph.ts';
import { silu } from '../onnx/layers.ts';
import { conv, downsample, midAttention, norm, resnetBlock, upsample } from './vae-blocks.ts';
import { ImportError, type WeightSource } from './weights.ts';

/** The keys of a diffusers AutoencoderKL config.json that the graphs depend on (absent ones take diffusers' defaults). */
export interface VaeConfig {
  in_channels?: number;
  out_channels?: number;
  latent_channels?: number;
  block_out_channels?: number[];
  layers_per_block?: number;
  norm_num_groups?: number;
  down_block_types?: string[];
  up_block_types?: string[];
  act_fn?: string;
  mid_block_add_attention?: boolean;
  use_quant_conv?: boolean;
  use_post_quant_conv?: boolean;
  scaling_factor?: number;
  shift_factor?: number | null;
  latents_mean?: number[] | null;
  latents_std?: number[] | null;
}

/** A validated VAE architecture. */
export interface VaeArchitecture {
  inChannels: number;
  outChannels: number;
  latentChannels: number;
  blockOutChannels: number[];
  layersPerBlock: number;
  groups: number;
  midAttention: boolean;
  quantConv: boolean;
  postQuantConv: boolean;
}

/**
 * Checks a parsed config.json and fills in diffusers' defaults for absent keys; anything this importer
 * cannot build (another activation or block type, a latent shift the engine does not apply, channels
 * that the groups do not divide) is an ImportError that names the key.
 */
export function vaeArchitecture(config: VaeConfig): VaeArchitecture {
  const c = config as Record<string, unknown>;
  const blockOutChannels = integerList(c, 'block_out_channels', [64]);
  const groups = integer(c, 'norm_num_groups', 32);
  for (const channels of blockOutChannels) {
    if (channels % groups !== 0)
      throw new ImportError(`VAE config: block_out_channels ${channels} is not a multiple of norm_num_groups ${groups}`);
  }
  const actFn = c.act_fn ?? 'silu';
  if (actFn !== 'silu' && actFn !== 'swish')
    throw new ImportError(`VAE config: act_fn ${JSON.stringify(actFn)} is not supported (only silu)`);
  blockTypes(c, 'down_block_types', 'DownEncoderBlock2D', blockOutChannels.length);
  blockTypes(c, 'up_block_types', 'UpDecoderBlock2D', blockOutChannels.length);
  // The engine decodes z / scaling_factor; a VAE that also shifts or normalises latents (SD 3, Flux) would decode wrongly.
  for (const key of ['shift_factor', 'latents_mean', 'latents_std']) {
    if (c[key] !== undefined && c[key] !== null)
      throw new ImportError(`VAE config: ${key} is not supported (a VAE of SD 3 / Flux / later?)`);
  }
  if (c.scaling_factor !== undefined && !(typeof c.scaling_factor === 'number' && c.scaling_factor > 0)) {
    throw new ImportError(`VAE config: scaling_factor must be a positive number, got ${JSON.stringify(c.scaling_factor)}`);
  }
  return {
    inChannels: integer(c, 'in_channels', 3),
    outChannels: integer(c, 'out_channels', 3),
    latentChannels: integer(c, 'latent_channels', 4),
    blockOutChannels,
    layersPerBlock: integer(c, 'layers_per_block', 1),
    groups,
    midAttention: flag(c, 'mid_block_add_attention', true),
    quantConv: flag(c, 'use_quant_conv', true),
    postQuantConv: flag(c, 'use_post_quant_conv', true),
  };
}

/**
 * The decoder: `latent_sample` [batch, latent_channels, height, width] -> `sample` [batch, out_channels,
 * height * 2^(levels-1), width * 2^(levels-1)]. The latent is taken as it is: the engine divides by
 * scaling_factor before calling, so nothing here scales.
 */
export function buildVaeDecoder(weights: WeightSource, config: VaeConfig, opts: BuildOptions): Graph {
  const a = vaeArchitecture(config);
  const g = new Graph('vae_decoder', opts.float);
  const channels = [...a.blockOutChannels].reverse();
  let x = g.input('latent_sample', opts.float, ['batch', a.latentChannels, 'height', 'width']);
  if (a.postQuantConv) x = conv(g, weights, x, 'post_quant_conv', { in: a.latentChannels, out: a.latentChannels, kernel: 1 });
  x = conv(g, weights, x, 'decoder.conv_in', { in: a.latentChannels, out: channels[0], kernel: 3 });
  x = midBlock(g, weights, x, 'decoder.mid_block', channels[0], a, opts);
  let previous = channels[0];
  channels.forEach((out, level) => {
    // layers_per_block + 1 resnets per level; every level but the last doubles the resolution.
    for (let i = 0; i <= a.layersPerBlock; i++) {
      x = resnetBlock(g, weights, x, `decoder.up_blocks.${level}.resnets.${i}`, { in: i === 0 ? previous : out, out, groups: a.groups });
    }
    if (level < channels.length - 1) x = upsample(g, weights, x, `decoder.up_blocks.${level}.upsamplers.0`, out);
    previous = out;
  });
  x = silu(g, norm(g, weights, x, 'decoder.conv_norm_out', a.blockOutChannels[0], a.groups));
  x = conv(g, weights, x, 'decoder.conv_out', { in: a.blockOutChannels[0], out: a.outChannels, kernel: 3 });
  g.output('sample', x, opts.float, ['batch', a.outChannels, 'sample_height', 'sample_width']);
  return g;
}

/**
 * The encoder: `sample` [batch, in_channels, height, width], pixels in [-1, 1] -> `latent_sample`, the MEAN of
 * the posterior (the first latent_channels channels after quant_conv; the rest are its log-variance, dropped).
 * It is NOT multiplied by scaling_factor: img2img does that, as diffusers' pipelines do with latent_dist.
 */
export function buildVaeEncoder(weights: WeightSource, config: VaeConfig, opts: BuildOptions): Graph {
  const a = vaeArchitecture(config);
  const g = new Graph('vae_encoder', opts.float);
  const channels = a.blockOutChannels;
  let x = g.input('sample', opts.float, ['batch', a.inChannels, 'height', 'width']);
  x = conv(g, weights, x, 'encoder.conv_in', { in: a.inChannels, out: channels[0], kernel: 3 });
  let previous = channels[0];
  channels.forEach((out, level) => {
    for (let i = 0; i < a.layersPerBlock; i++) {
      x = resnetBlock(g, weights, x, `encoder.down_blocks.${level}.resnets.${i}`, { in: i === 0 ? previous : out, out, groups: a.groups });
    }
    if (level < channels.length - 1) x = downsample(g, weights, x, `encoder.down_blocks.${level}.downsamplers.0`, out);
    previous = out;
  });
  const last = channels[channels.length - 1];
  x = midBlock(g, weights, x, 'encoder.mid_block', last, a, opts);
  x = silu(g, norm(g, weights, x, 'encoder.conv_norm_out', last, a.groups));
  // double_z: mean and log-variance side by side on the channel axis.
  const moments = 2 * a.latentChannels;
  x = conv(g, weights, x, 'encoder.conv_out', { in: last, out: moments, kernel: 3 });
  if (a.quantConv) x = conv(g, weights, x, 'quant_conv', { in: moments, out: moments, kernel: 1 });
  const mean = g.op('Slice', [x, g.constant([0], 'int64'), g.constant([a.latentChannels], 'int64'), g.constant([1], 'int64')]);
  g.output('latent_sample', mean, opts.float, ['batch', a.latentChannels, 'latent_height', 'latent_width']);
  return g;
}

/** UNetMidBlock2D with one attention layer: resnet, attention (when mid_block_add_attention), resnet. */
function midBlock(g: Graph, w: WeightSource, x: string, prefix: string, channels: number, a: VaeArchitecture, opts: BuildOptions): string {
  const block = { in: channels, out: channels, groups: a.groups };
  x = resnetBlock(g, w, x, `${prefix}.resnets.0`, block);
  if (a.midAttention) x = midAttention(g, w, x, `${prefix}.attentions.0`, channels, a.groups, opts.attention ?? 'plain');
  return resnetBlock(g, w, x, `${prefix}.resnets.1`, block);
}

function integer(c: Record<string, unknown>, key: string, fallback: number): number {
  const value = c[key] ?? fallback;
  if (!Number.isInteger(value) || (value as number) < 1)
    throw new ImportError(`VAE config: ${key} must be a positive whole number, got ${JSON.stringify(value)}`);
  return value as number;
}

function integerList(c: Record<string, unknown>, key: string, fallback: number[]): number[] {
  const value = c[key] ?? fallback;
  if (!Array.isArray(value) || value.length === 0 || !value.every((v) => Number.isInteger(v) && v > 0)) {
    throw new ImportError(`VAE config: ${key} must be a non-empty list of positive whole numbers, got ${JSON.stringify(value)}`);
  }
  return value as number[];
}

function flag(c: Record<string, unknown>, key: string, fallback: boolean): boolean {
  const value = c[key] ?? fallback;
  if (typeof value !== 'boolean') throw new ImportError(`VAE config: ${key} must be true or false, got ${JSON.stringify(value)}`);
  return value;
}

/** One block type per level, all of the one kind this importer builds. */
function blockTypes(c: Record<string, unknown>, key: string, only: string, levels: number): void {
  const value = c[key] ?? [only];
  if (!Array.isArray(value) || value.length !== levels) {
    throw new ImportError(
      `VAE config: ${key} must list ${levels} block types (one per block_out_channels entry), got ${JSON.stringify(value)}`,
    );
  }
  const other = value.find((t) => t !== only);
  if (other !== undefined) throw new ImportError(`VAE config: ${key} has ${JSON.stringify(other)}; only ${only} is supported`);
}
