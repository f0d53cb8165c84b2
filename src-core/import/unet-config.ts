// The diffusers UNet2DConditionModel config (unet/config.json) as SD 1.x, 2.x and SDXL use it, checked and expanded
// into one plan per resolution level. Anything the graph builder does not implement is refused by its key, so
// an unsupported model (LCM's timestep condition, Kandinsky's image embeddings, ...) fails before any graph is built.
import { ImportError } from './weights.ts';

type PerLevel<T> = T | T[];

/** The keys of diffusers' config.json that the builder reads; the rest must keep their defaults. */
export interface UNetConfig {
  _class_name?: string;
  in_channels?: number;
  out_channels?: number;
  center_input_sample?: boolean;
  flip_sin_to_cos?: boolean;
  freq_shift?: number;
  down_block_types?: string[];
  mid_block_type?: string | null;
  up_block_types?: string[];
  only_cross_attention?: PerLevel<boolean>;
  block_out_channels?: number[];
  layers_per_block?: PerLevel<number>;
  downsample_padding?: number;
  mid_block_scale_factor?: number;
  act_fn?: string;
  norm_num_groups?: number | null;
  norm_eps?: number;
  cross_attention_dim?: PerLevel<number>;
  transformer_layers_per_block?: PerLevel<number>;
  /** In diffusers this is the number of HEADS when num_attention_heads is null (a historical misnomer). */
  attention_head_dim?: PerLevel<number>;
  num_attention_heads?: PerLevel<number> | null;
  use_linear_projection?: boolean;
  upcast_attention?: boolean;
  resnet_time_scale_shift?: string;
  time_embedding_type?: string;
  time_embedding_dim?: number | null;
  conv_in_kernel?: number;
  conv_out_kernel?: number;
  /** SDXL: "text_time" (pooled text embedding and size/crop time_ids added to the time embedding). */
  addition_embed_type?: string | null;
  addition_time_embed_dim?: number | null;
  projection_class_embeddings_input_dim?: number | null;
  [key: string]: unknown;
}

export type DownBlockType = 'CrossAttnDownBlock2D' | 'DownBlock2D';
export type UpBlockType = 'CrossAttnUpBlock2D' | 'UpBlock2D';

/** One resolution level of the down or up path. */
export interface UNetLevel {
  channels: number;
  crossAttention: boolean;
  /** ResnetBlock2D count (an up level has one more than its down level). */
  resnets: number;
  /** BasicTransformerBlocks in each Transformer2DModel of the level. */
  transformerLayers: number;
  heads: number;
  crossAttentionDim: number;
}

/** The validated, expanded architecture. */
export interface UNetPlan {
  inChannels: number;
  outChannels: number;
  centerInputSample: boolean;
  flipSinToCos: boolean;
  freqShift: number;
  groups: number;
  eps: number;
  linearProjection: boolean;
  upcastAttention: boolean;
  midScaleFactor: number;
  convInKernel: number;
  convOutKernel: number;
  /** Sinusoidal timestep features (block_out_channels[0]). */
  timeChannels: number;
  crossAttentionDim: number;
  /** SDXL's text_time embedding: sinusoidal features of each time id, and the add_embedding's input width. */
  textTime?: { timeEmbedDim: number; inputDim: number };
  down: UNetLevel[];
  mid: UNetLevel;
  up: UNetLevel[];
}

/** Keys whose only supported value is their diffusers default (null/absent, false, or the given value). */
const FIXED: Record<string, unknown> = {
  class_embed_type: null,
  num_class_embeds: null,
  encoder_hid_dim: null,
  encoder_hid_dim_type: null,
  time_cond_proj_dim: null,
  time_embedding_act_fn: null,
  timestep_post_act: null,
  reverse_transformer_layers_per_block: null,
  mid_block_only_cross_attention: null,
  cross_attention_norm: null,
  dual_cross_attention: false,
  class_embeddings_concat: false,
  resnet_skip_time_act: false,
  act_fn: 'silu',
  resnet_time_scale_shift: 'default',
  time_embedding_type: 'positional',
  attention_type: 'default',
  mid_block_type: 'UNetMidBlock2DCrossAttn',
  downsample_padding: 1,
};

function refuse(key: string, value: unknown, why = 'is not supported'): never {
  throw new ImportError(`unet config: ${key} = ${JSON.stringify(value)} ${why}`);
}

function positiveInt(key: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) refuse(key, value, 'is not a positive integer');
  return value;
}

function perLevel(key: string, value: unknown, levels: number, fallback: unknown): number[] {
  const given = value ?? fallback;
  const list = Array.isArray(given) ? given : Array.from({ length: levels }, () => given);
  if (list.length !== levels) refuse(key, value, `needs one value per level (${levels})`);
  return list.map((v) => positiveInt(key, v));
}

function blockTypes<T extends string>(key: string, value: unknown, allowed: readonly T[]): T[] {
  if (!Array.isArray(value) || value.length === 0) refuse(key, value, 'is not a list of block types');
  for (const type of value) if (!allowed.includes(type)) refuse(key, type, `is not a supported block type (${allowed.join(', ')})`);
  return value as T[];
}

/** Checks `config` and expands it; throws ImportError naming the first key that is not supported. */
export function planUNet(config: UNetConfig): UNetPlan {
  if (config._class_name !== undefined && config._class_name !== 'UNet2DConditionModel') refuse('_class_name', config._class_name);
  for (const [key, expected] of Object.entries(FIXED)) {
    const value = config[key];
    const isDefault = value === undefined || value === expected || (expected === null && value === null);
    // mid_block_only_cross_attention may also be spelled false, which is what null means here.
    if (!isDefault && !(key === 'mid_block_only_cross_attention' && value === false)) refuse(key, value);
  }
  const only = config.only_cross_attention;
  if (only !== undefined && only !== false && !(Array.isArray(only) && only.every((v) => v === false))) {
    refuse('only_cross_attention', only);
  }

  const downTypes = blockTypes(
    'down_block_types',
    config.down_block_types ?? ['CrossAttnDownBlock2D', 'CrossAttnDownBlock2D', 'CrossAttnDownBlock2D', 'DownBlock2D'],
    ['CrossAttnDownBlock2D', 'DownBlock2D'] as const,
  );
  const upTypes = blockTypes(
    'up_block_types',
    config.up_block_types ?? ['UpBlock2D', 'CrossAttnUpBlock2D', 'CrossAttnUpBlock2D', 'CrossAttnUpBlock2D'],
    ['CrossAttnUpBlock2D', 'UpBlock2D'] as const,
  );
  const n = downTypes.length;
  if (upTypes.length !== n) refuse('up_block_types', config.up_block_types, `needs as many entries as down_block_types (${n})`);
  if (config.block_out_channels !== undefined && !Array.isArray(config.block_out_channels))
    refuse('block_out_channels', config.block_out_channels, 'is not a list');
  const channels = perLevel('block_out_channels', config.block_out_channels, n, [320, 640, 1280, 1280]);
  const layers = perLevel('layers_per_block', config.layers_per_block, n, 2);
  const transformerLayers = perLevel('transformer_layers_per_block', config.transformer_layers_per_block, n, 1);
  // num_attention_heads wins where given; otherwise attention_head_dim holds the head count (diffusers' misnomer).
  const heads = perLevel(
    config.num_attention_heads != null ? 'num_attention_heads' : 'attention_head_dim',
    config.num_attention_heads ?? config.attention_head_dim,
    n,
    8,
  );
  const crossDims = perLevel('cross_attention_dim', config.cross_attention_dim, n, 1280);
  if (crossDims.some((d) => d !== crossDims[0]))
    refuse('cross_attention_dim', config.cross_attention_dim, 'must be one value (one encoder_hidden_states input)');
  const groups =
    config.norm_num_groups === null ? refuse('norm_num_groups', null) : positiveInt('norm_num_groups', config.norm_num_groups ?? 32);
  for (const c of channels)
    if (c % groups !== 0) refuse('block_out_channels', channels, `must be multiples of norm_num_groups (${groups})`);
  const eps = config.norm_eps ?? 1e-5;
  if (typeof eps !== 'number' || !(eps > 0)) refuse('norm_eps', eps);
  const kernel = (key: string) => {
    const k = positiveInt(key, config[key] ?? 3);
    return k % 2 === 1 ? k : refuse(key, k, 'must be odd');
  };
  const timeDim = config.time_embedding_dim;
  if (timeDim != null) positiveInt('time_embedding_dim', timeDim);
  const textTime = additionEmbedding(config);

  const level = (i: number, crossAttention: boolean, resnets: number): UNetLevel => ({
    channels: channels[i],
    crossAttention,
    resnets,
    transformerLayers: transformerLayers[i],
    heads: heads[i],
    crossAttentionDim: crossDims[i],
  });
  const last = n - 1;
  return {
    inChannels: positiveInt('in_channels', config.in_channels ?? 4),
    outChannels: positiveInt('out_channels', config.out_channels ?? 4),
    centerInputSample: config.center_input_sample === true,
    flipSinToCos: config.flip_sin_to_cos ?? true,
    freqShift:
      typeof config.freq_shift === 'number'
        ? config.freq_shift
        : config.freq_shift === undefined
          ? 0
          : refuse('freq_shift', config.freq_shift),
    groups,
    eps,
    linearProjection: config.use_linear_projection === true,
    upcastAttention: config.upcast_attention === true,
    midScaleFactor: config.mid_block_scale_factor ?? 1,
    convInKernel: kernel('conv_in_kernel'),
    convOutKernel: kernel('conv_out_kernel'),
    timeChannels: channels[0],
    crossAttentionDim: crossDims[0],
    ...(textTime ? { textTime } : {}),
    down: downTypes.map((type, i) => level(i, type === 'CrossAttnDownBlock2D', layers[i])),
    mid: level(last, true, 2),
    // Up level i mirrors down level n-1-i and has one more resnet (it also takes the downsampler's skip).
    up: upTypes.map((type, i) => level(last - i, type === 'CrossAttnUpBlock2D', layers[last - i] + 1)),
  };
}

/** SDXL's addition embedding ("text_time"); other kinds (Kandinsky's "text_image", "image", ...) are refused by name. */
function additionEmbedding(config: UNetConfig): UNetPlan['textTime'] {
  const type = config.addition_embed_type;
  if (type === undefined || type === null) return undefined;
  if (type !== 'text_time') refuse('addition_embed_type', type, 'is not supported (SDXL\'s "text_time" is)');
  return {
    timeEmbedDim: positiveInt('addition_time_embed_dim', config.addition_time_embed_dim),
    inputDim: positiveInt('projection_class_embeddings_input_dim', config.projection_class_embeddings_input_dim),
  };
}
