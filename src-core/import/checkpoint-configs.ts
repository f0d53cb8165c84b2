// The diffusers configs of a single-file checkpoint, which carries none: sizes from the tensor shapes
// (under diffusers names, after the LDM key maps), the rest (head counts, activations, scheduler)
// from what every SD 1 / SD 2 model uses. A diffusers folder given as the config (diffusers'
// from_single_file(config=...) habit) replaces the inferred configs, e.g. for models whose head
// counts are not SD's.
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { readJsonObjectFile, type Json } from '../model/configs.ts';
import type { Family, Prediction } from './detect.ts';
import { ImportError, type WeightSource } from './weights.ts';

export interface ComponentConfigs {
  unet: Json;
  vae: Json;
  textEncoder: Json;
  /** SDXL's second text encoder (CLIPTextModelWithProjection). */
  textEncoder2?: Json;
  scheduler: Json;
}

export function shapeOf(weights: WeightSource, name: string, component: string): readonly number[] {
  if (!weights.has(name)) throw new ImportError(`missing tensor ${name} (${component}), needed to infer its config`);
  return weights.get(name).shape;
}

/** Indices N present as `${prefix}N.` in the names, in order. */
export function indices(names: string[], prefix: string): number[] {
  const found = new Set<number>();
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const n = Number.parseInt(name.slice(prefix.length), 10);
    if (Number.isInteger(n)) found.add(n);
  }
  return [...found].sort((a, b) => a - b);
}

/** SD's heads of 64 channels; sizes SD never uses (tiny test models) get one head: their configs should come from a config folder. */
export function headsOf64(channels: number): number {
  return channels % 64 === 0 ? channels / 64 : 1;
}

/** UNet2DConditionModel config of an SD 1 / SD 2 UNet (diffusers names). */
export function inferUNetConfig(weights: WeightSource, family: Family): Json {
  const names = weights.names();
  const levels = indices(names, 'down_blocks.');
  if (levels.length === 0) throw new ImportError('the UNet has no down blocks');
  const channels = levels.map((i) => shapeOf(weights, `down_blocks.${i}.resnets.0.conv1.weight`, 'UNet')[0]);
  const layersPerBlock = indices(names, 'down_blocks.0.resnets.').length;
  const downAttention = levels.map((i) => names.some((n) => n.startsWith(`down_blocks.${i}.attentions.`)));
  const upAttention = levels.map((i) => names.some((n) => n.startsWith(`up_blocks.${i}.attentions.`)));
  const toK = names.find((n) => /attentions\.\d+\.transformer_blocks\.0\.attn2\.to_k\.weight$/.test(n));
  const projIn = names.find((n) => /attentions\.\d+\.proj_in\.weight$/.test(n));
  const depth = indices(names, 'mid_block.attentions.0.transformer_blocks.').length || 1;
  return {
    _class_name: 'UNet2DConditionModel',
    act_fn: 'silu',
    // SD 1: 8 heads everywhere (diffusers calls that number attention_head_dim); SD 2: 64 channels per head.
    attention_head_dim: family === 'sd1' ? 8 : channels.map(headsOf64),
    block_out_channels: channels,
    center_input_sample: false,
    cross_attention_dim: toK ? weights.get(toK).shape[1] : family === 'sd1' ? 768 : 1024,
    down_block_types: downAttention.map((a) => (a ? 'CrossAttnDownBlock2D' : 'DownBlock2D')),
    downsample_padding: 1,
    dual_cross_attention: false,
    flip_sin_to_cos: true,
    freq_shift: 0,
    in_channels: shapeOf(weights, 'conv_in.weight', 'UNet')[1],
    layers_per_block: layersPerBlock,
    mid_block_scale_factor: 1,
    norm_eps: 1e-5,
    norm_num_groups: 32,
    num_class_embeds: null,
    only_cross_attention: false,
    out_channels: shapeOf(weights, 'conv_out.weight', 'UNet')[0],
    sample_size: 64,
    transformer_layers_per_block: depth,
    up_block_types: upAttention.map((a) => (a ? 'CrossAttnUpBlock2D' : 'UpBlock2D')),
    upcast_attention: false,
    use_linear_projection: projIn ? weights.get(projIn).shape.length === 2 : family === 'sd2',
  };
}

/** AutoencoderKL config (diffusers names). */
export function inferVaeConfig(weights: WeightSource): Json {
  const names = weights.names();
  const levels = indices(names, 'encoder.down_blocks.');
  if (levels.length === 0) throw new ImportError('the VAE has no encoder down blocks');
  return {
    _class_name: 'AutoencoderKL',
    act_fn: 'silu',
    block_out_channels: levels.map((i) => shapeOf(weights, `encoder.down_blocks.${i}.resnets.0.conv1.weight`, 'VAE')[0]),
    down_block_types: levels.map(() => 'DownEncoderBlock2D'),
    in_channels: shapeOf(weights, 'encoder.conv_in.weight', 'VAE')[1],
    latent_channels: shapeOf(weights, 'decoder.conv_in.weight', 'VAE')[1],
    layers_per_block: indices(names, 'encoder.down_blocks.0.resnets.').length,
    norm_num_groups: 32,
    out_channels: shapeOf(weights, 'decoder.conv_out.weight', 'VAE')[0],
    sample_size: 512,
    scaling_factor: 0.18215,
    up_block_types: levels.map(() => 'UpDecoderBlock2D'),
  };
}

/** CLIPTextConfig (HF names). SD 1 is OpenAI's CLIP ViT-L (quick_gelu), SD 2 OpenCLIP ViT-H (gelu). */
export function inferTextConfig(weights: WeightSource, family: Family): Json {
  const [vocab, hidden] = shapeOf(weights, 'text_model.embeddings.token_embedding.weight', 'text encoder');
  return {
    architectures: ['CLIPTextModel'],
    attention_dropout: 0,
    bos_token_id: 0,
    dropout: 0,
    eos_token_id: 2,
    hidden_act: family === 'sd1' ? 'quick_gelu' : 'gelu',
    hidden_size: hidden,
    initializer_factor: 1,
    initializer_range: 0.02,
    intermediate_size: shapeOf(weights, 'text_model.encoder.layers.0.mlp.fc1.weight', 'text encoder')[0],
    layer_norm_eps: 1e-5,
    max_position_embeddings: shapeOf(weights, 'text_model.embeddings.position_embedding.weight', 'text encoder')[0],
    model_type: 'clip_text_model',
    num_attention_heads: headsOf64(hidden),
    num_hidden_layers: indices(weights.names(), 'text_model.encoder.layers.').length,
    pad_token_id: 1,
    projection_dim: family === 'sd1' ? 768 : 512,
    vocab_size: vocab,
  };
}

/** SD's training schedule (scaled_linear 0.00085..0.012 over 1000 steps). */
export function sdSchedulerConfig(prediction: Prediction): Json {
  return {
    _class_name: 'PNDMScheduler',
    beta_end: 0.012,
    beta_schedule: 'scaled_linear',
    beta_start: 0.00085,
    clip_sample: false,
    num_train_timesteps: 1000,
    prediction_type: prediction,
    set_alpha_to_one: false,
    skip_prk_steps: true,
    steps_offset: 1,
    timestep_spacing: 'leading',
    trained_betas: null,
  };
}

/** The configs of a checkpoint's mapped weights. SD 2 v-models are 768-pixel models (sample size 96). */
export function inferConfigs(
  weights: { unet: WeightSource; vae: WeightSource; textEncoder: WeightSource },
  family: Family,
  prediction: Prediction | 'needs-test',
): ComponentConfigs {
  const unet = inferUNetConfig(weights.unet, family);
  const vae = inferVaeConfig(weights.vae);
  if (family === 'sd2' && prediction === 'v_prediction') {
    unet.sample_size = 96;
    vae.sample_size = 768;
  }
  return {
    unet,
    vae,
    textEncoder: inferTextConfig(weights.textEncoder, family),
    // 'needs-test' leaves epsilon here; the importer writes the scheduler config with the tested type.
    scheduler: sdSchedulerConfig(prediction === 'needs-test' ? 'epsilon' : prediction),
  };
}

/** What a config folder (a diffusers model folder, configs only needed) provides. */
export interface ConfigFolder {
  unet?: Json;
  vae?: Json;
  textEncoder?: Json;
  textEncoder2?: Json;
  scheduler?: Json;
  tokenizerDir?: string;
  tokenizer2Dir?: string;
  /** model_index.json, when the folder has one (SDXL's force_zeros_for_empty_prompt lives there). */
  modelIndex?: Json;
}

function readConfig(dir: string, file: string): Json | undefined {
  const path = join(dir, file);
  if (!existsSync(path)) return undefined;
  return readJsonObjectFile(
    path,
    (problem, cause) =>
      new ImportError(problem === 'not-object' ? `${path} must hold a JSON object` : `cannot read ${path}: ${cause?.message ?? problem}`),
  );
}

/** The configs of a diffusers folder (any of them may be absent); ImportError if it has none at all. */
export function readConfigFolder(dir: string): ConfigFolder {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new ImportError(`config folder ${dir} does not exist or is not a folder`);
  const folder: ConfigFolder = {
    unet: readConfig(dir, 'unet/config.json'),
    vae: readConfig(dir, 'vae/config.json'),
    textEncoder: readConfig(dir, 'text_encoder/config.json'),
    textEncoder2: readConfig(dir, 'text_encoder_2/config.json'),
    scheduler: readConfig(dir, 'scheduler/scheduler_config.json'),
    modelIndex: readConfig(dir, 'model_index.json'),
  };
  if (existsSync(join(dir, 'tokenizer', 'vocab.json'))) folder.tokenizerDir = join(dir, 'tokenizer');
  if (existsSync(join(dir, 'tokenizer_2', 'vocab.json'))) folder.tokenizer2Dir = join(dir, 'tokenizer_2');
  if (!folder.unet && !folder.vae && !folder.textEncoder && !folder.scheduler) {
    throw new ImportError(
      `config folder ${dir} has none of unet/config.json, vae/config.json, text_encoder/config.json, scheduler/scheduler_config.json`,
    );
  }
  return folder;
}

/** The prediction type a scheduler config states, if it states a supported one. */
export function schedulerPrediction(scheduler: Json | undefined): Prediction | undefined {
  const value = scheduler?.prediction_type;
  if (value === undefined || value === null) return undefined;
  if (value === 'epsilon' || value === 'v_prediction') return value;
  throw new ImportError(`scheduler prediction_type "${String(value)}" is not supported (epsilon or v_prediction)`);
}
