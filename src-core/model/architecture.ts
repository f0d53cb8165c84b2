// The shapes of a model's UNet and VAE decoder as their diffusers configs describe them: what the
// memory estimate of a request needs (channels per level, which levels attend, with how many heads).
import { configInteger, configIntegerList, type Json } from './configs.ts';
import { ModelError } from './errors.ts';

export interface UNetShape {
  /** Channels per resolution level, highest resolution first (block_out_channels). */
  channels: number[];
  /** Attention heads per level; 0 where the level has no attention block. */
  heads: number[];
  /** Transformer layers in each attention block, per level. */
  transformerLayers: number[];
  layersPerBlock: number;
  /**
   * False when the config leaves the network out (block_out_channels and down_block_types absent):
   * diffusers' defaults, which are SD 1.5's shape, are assumed then, as diffusers itself would.
   */
  described: boolean;
}

export interface VaeShape {
  /** Decoder channels per level, highest resolution first (block_out_channels). */
  channels: number[];
  /** AutoencoderKL's mid block attends over every latent position (one head) unless turned off. */
  midAttention: boolean;
}

const MAX_LEVELS = 8;
const MAX_CHANNELS = 100_000;
/** diffusers' UNet2DConditionModel defaults: the SD 1.x UNet. */
const UNET_DEFAULTS = {
  channels: [320, 640, 1280, 1280],
  downBlocks: ['CrossAttnDownBlock2D', 'CrossAttnDownBlock2D', 'CrossAttnDownBlock2D', 'DownBlock2D'],
  heads: 8,
};
/** The SD VAE (8 pixels per latent cell) when the decoder config is absent. */
const VAE_DEFAULT_CHANNELS = [128, 256, 512, 512];

/** An int for every level, or one int per level (diffusers accepts both for heads and layers). */
function perLevel(config: Json | undefined, key: string, fallback: number, levels: number, max: number): number[] {
  const value = config?.[key];
  if (Array.isArray(value)) {
    if (value.length !== levels) throw new ModelError('unet', `config value ${key} has ${value.length} entries for ${levels} levels`);
    return configIntegerList(config, key, [], 'unet', { maxLength: MAX_LEVELS, max });
  }
  return new Array(levels).fill(configInteger(config, key, fallback, 'unet', max));
}

function blockTypes(config: Json | undefined, key: string, fallback: string[], levels: number): string[] {
  const value = config?.[key];
  if (value === undefined || value === null) return fallback.length === levels ? fallback : new Array(levels).fill('CrossAttnDownBlock2D');
  if (!Array.isArray(value) || value.length !== levels || !value.every((v) => typeof v === 'string')) {
    throw new ModelError('unet', `config value ${key} must list one block type per entry of block_out_channels (${levels})`);
  }
  return value as string[];
}

export function unetShape(config: Json | undefined): UNetShape {
  const channels = configIntegerList(config, 'block_out_channels', UNET_DEFAULTS.channels, 'unet', {
    maxLength: MAX_LEVELS,
    max: MAX_CHANNELS,
  });
  const levels = channels.length;
  const down = blockTypes(config, 'down_block_types', UNET_DEFAULTS.downBlocks, levels);
  // Up blocks are listed lowest resolution first; without them, assume they mirror the down blocks.
  const up = config?.up_block_types === undefined ? down : blockTypes(config, 'up_block_types', down, levels).reverse();
  // diffusers reads attention_head_dim as the number of heads when num_attention_heads is absent.
  const headsKey =
    config?.num_attention_heads !== undefined && config?.num_attention_heads !== null ? 'num_attention_heads' : 'attention_head_dim';
  const heads = perLevel(config, headsKey, UNET_DEFAULTS.heads, levels, 1024);
  const transformerLayers = perLevel(config, 'transformer_layers_per_block', 1, levels, 100);
  const attends = (level: number) => /Attn/.test(down[level]) || /Attn/.test(up[level]);
  return {
    channels,
    heads: heads.map((h, level) => (attends(level) ? h : 0)),
    transformerLayers,
    layersPerBlock: configInteger(config, 'layers_per_block', 2, 'unet', 100),
    described: config?.block_out_channels !== undefined && config?.down_block_types !== undefined,
  };
}

export function vaeShape(config: Json | undefined): VaeShape {
  const channels = configIntegerList(config, 'block_out_channels', VAE_DEFAULT_CHANNELS, 'vae_decoder', {
    maxLength: MAX_LEVELS,
    max: MAX_CHANNELS,
  });
  return { channels, midAttention: config?.mid_block_add_attention !== false };
}

/** Pixels per latent cell: each decoder level after the first doubles the resolution. */
export function vaeFactorOf(vae: VaeShape): number {
  return 2 ** (vae.channels.length - 1);
}
