// The diffusers configs of an SDXL base checkpoint, which carries none: sizes from the tensor shapes (under
// diffusers names), the rest from Stability's stable-diffusion-xl-base-1.0 configs (heads of 64 channels,
// CLIP ViT-L with quick_gelu, OpenCLIP bigG with gelu, the VAE's 0.13025 scaling factor and force_upcast, an
// Euler scheduler on SD's training schedule). A config folder replaces any of them, as for SD 1/2.
import type { Json } from '../model/configs.ts';
import {
  headsOf64,
  indices,
  inferTextConfig,
  inferUNetConfig,
  inferVaeConfig,
  shapeOf,
  type ComponentConfigs,
} from './checkpoint-configs.ts';
import type { Prediction } from './detect.ts';
import { SDXL_TIME_IDS } from './unet-graph.ts';
import { ImportError, type WeightSource } from './weights.ts';

/** SDXL's native size in pixels (the UNet's sample_size is this over the VAE's factor of 8). */
export const SDXL_SIZE = 1024;

/** UNet2DConditionModel config of an SDXL UNet, with the text_time addition embedding. */
export function inferSdxlUNetConfig(weights: WeightSource, projectionDim: number): Json {
  const base = inferUNetConfig(weights, 'sdxl');
  const names = weights.names();
  const channels = base.block_out_channels as number[];
  // Levels without attention (SDXL's first) get 1, as Stability's config says.
  const depth = channels.map((_, i) => indices(names, `down_blocks.${i}.attentions.0.transformer_blocks.`).length || 1);
  const inputDim = shapeOf(weights, 'add_embedding.linear_1.weight', 'UNet')[1]!;
  const timeFeatures = inputDim - projectionDim;
  if (timeFeatures <= 0 || timeFeatures % SDXL_TIME_IDS !== 0) {
    throw new ImportError(
      `the UNet's add_embedding takes ${inputDim} features, which is not the text encoder's ${projectionDim} ` +
        `plus ${SDXL_TIME_IDS} time ids (an SDXL refiner?)`,
    );
  }
  return {
    ...base,
    addition_embed_type: 'text_time',
    addition_embed_type_num_heads: 64,
    addition_time_embed_dim: timeFeatures / SDXL_TIME_IDS,
    attention_head_dim: channels.map(headsOf64),
    num_attention_heads: null,
    projection_class_embeddings_input_dim: inputDim,
    sample_size: SDXL_SIZE / 8,
    transformer_layers_per_block: depth,
  };
}

/** CLIPTextConfig of SDXL's second text encoder (OpenCLIP bigG as CLIPTextModelWithProjection). */
export function inferSdxlText2Config(weights: WeightSource): Json {
  const base = inferTextConfig(weights, 'sd2');
  return {
    ...base,
    architectures: ['CLIPTextModelWithProjection'],
    projection_dim: shapeOf(weights, 'text_projection.weight', 'text encoder 2')[0],
  };
}

/** Stability's SDXL base scheduler config. */
export function sdxlSchedulerConfig(prediction: Prediction): Json {
  return {
    _class_name: 'EulerDiscreteScheduler',
    beta_end: 0.012,
    beta_schedule: 'scaled_linear',
    beta_start: 0.00085,
    clip_sample: false,
    interpolation_type: 'linear',
    num_train_timesteps: 1000,
    prediction_type: prediction,
    sample_max_value: 1,
    set_alpha_to_one: false,
    skip_prk_steps: true,
    steps_offset: 1,
    timestep_spacing: 'leading',
    trained_betas: null,
    use_karras_sigmas: false,
  };
}

/** AutoencoderKL config of SDXL's VAE: its own scaling factor, and fp32 in fp16 pipelines (it overflows in fp16). */
export function inferSdxlVaeConfig(weights: WeightSource): Json {
  return { ...inferVaeConfig(weights), force_upcast: true, sample_size: SDXL_SIZE, scaling_factor: 0.13025 };
}

/** Every config of an SDXL checkpoint's mapped weights. */
export function inferSdxlConfigs(
  weights: { unet: WeightSource; vae: WeightSource; textEncoder: WeightSource; textEncoder2: WeightSource },
  prediction: Prediction,
): ComponentConfigs {
  const textEncoder2 = inferSdxlText2Config(weights.textEncoder2);
  return {
    unet: inferSdxlUNetConfig(weights.unet, textEncoder2.projection_dim as number),
    vae: inferSdxlVaeConfig(weights.vae),
    textEncoder: inferTextConfig(weights.textEncoder, 'sd1'),
    textEncoder2,
    scheduler: sdxlSchedulerConfig(prediction),
  };
}
