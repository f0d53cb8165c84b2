// What makes a folder SDXL, read from its files (Hugging Face optimum's ONNX layout): text_encoder_2/ and
// tokenizer_2/ beside text_encoder/ and tokenizer/, and a UNet with the extra inputs text_embeds (the
// pooled text vector) and time_ids (original size, crop top-left, target size). Never from its name.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Json } from './configs.ts';
import { ModelError } from './errors.ts';
import type { ComponentSession } from './session.ts';
import type { FloatType } from './tensors.ts';
import { lastDim } from './text-encoders.ts';

export type ModelFamily = 'sd' | 'sdxl';

/** What SDXL's conditioning needs beyond SD's. */
export interface SdxlInfo {
  /** Width of text_encoder_2's text_embeds (1280), the UNet's text_embeds input. */
  pooledWidth: number;
  /** diffusers' pipeline setting (model_index.json): an empty negative prompt conditions with zeros. */
  forceZerosForEmptyPrompt: boolean;
  textEmbedsFloat: FloatType;
  timeIdsFloat: FloatType;
}

/** The six micro-conditioning values: original (h, w), crop (top, left), target (h, w). */
export const TIME_IDS = 6;

/** How the VAE decoder runs: as the folder holds it, upcast from fp16 to fp32, or fp16 because its config says it is safe. */
export type VaeDecodeMode = 'as-is' | 'upcast' | 'fp16-fixed';

const SDXL_UNET_INPUTS = ['text_embeds', 'time_ids'];
const KNOWN_UNET_INPUTS = new Set(['sample', 'timestep', 'encoder_hidden_states', ...SDXL_UNET_INPUTS]);

function floatInput(unet: ComponentSession, name: string): FloatType {
  const type = unet.inputs.get(name)!.type;
  if (type !== 'float32' && type !== 'float16')
    throw new ModelError('unet', `input "${name}" has type ${type}; float32 or float16 expected`);
  return type;
}

/** An SDXL refiner folder has text_encoder_2/ only: said before the missing text_encoder/ is. */
export function refuseRefiner(dir: string): void {
  if (existsSync(join(dir, 'text_encoder_2')) && !existsSync(join(dir, 'text_encoder'))) {
    throw new ModelError(
      'text_encoder',
      'text_encoder/ is missing: an SDXL refiner (text_encoder_2 only) is not supported; use an SDXL base model or a fine-tune of it',
    );
  }
}

/**
 * Whether the folder is SDXL: its files (text_encoder_2/, tokenizer_2/) and its UNet's inputs must agree;
 * half an SDXL folder is refused with what is missing.
 */
export function isSdxlFolder(dir: string, unet: ComponentSession): boolean {
  const secondEncoder = existsSync(join(dir, 'text_encoder_2')),
    secondTokenizer = existsSync(join(dir, 'tokenizer_2'));
  const unetInputs = SDXL_UNET_INPUTS.filter((name) => unet.inputs.has(name));
  if (!secondEncoder && !secondTokenizer && unetInputs.length === 0) return false;
  if (unetInputs.length === 0) {
    throw new ModelError(
      'unet',
      `the folder has ${secondEncoder ? 'text_encoder_2/' : 'tokenizer_2/'} (SDXL) ` +
        `but the UNet takes no text_embeds and time_ids inputs (mismatched components?)`,
    );
  }
  if (unetInputs.length === 1)
    throw new ModelError(
      'unet',
      `takes ${unetInputs[0]} but not ${SDXL_UNET_INPUTS.find((n) => n !== unetInputs[0])}; an SDXL UNet takes both`,
    );
  if (!secondEncoder)
    throw new ModelError(
      'text_encoder_2',
      'text_encoder_2/ is missing: the UNet takes text_embeds and time_ids (SDXL), which come from the second text encoder',
    );
  if (!secondTokenizer)
    throw new ModelError('tokenizer_2', 'tokenizer_2/ is missing: SDXL\'s second text encoder has its own tokenizer (it pads with "!")');
  return true;
}

/** Checks the SDXL UNet's extra inputs against text_encoder_2 and reads the pipeline's settings. */
export function sdxlInfo(unet: ComponentSession, pooledWidth: number, modelIndex: Json | undefined): SdxlInfo {
  const unknown = [...unet.inputs.keys()].filter((name) => !KNOWN_UNET_INPUTS.has(name));
  if (unknown.length > 0) {
    throw new ModelError(
      'unet',
      `takes inputs this engine does not provide: ${unknown.map((n) => `"${n}"`).join(', ')} ` +
        `(timestep_cond: a guidance-distilled LCM UNet; not supported)`,
    );
  }
  if (modelIndex?.requires_aesthetics_score === true) {
    throw new ModelError(
      'model',
      'model_index.json sets requires_aesthetics_score (an SDXL refiner or ' +
        'img2img model); only SDXL base models and their fine-tunes are supported',
    );
  }
  const unetPooled = lastDim(unet.inputs.get('text_embeds')!.shape);
  if (unetPooled !== undefined && unetPooled !== pooledWidth) {
    throw new ModelError(
      'unet',
      `takes ${unetPooled}-wide text_embeds but text_encoder_2 makes ${pooledWidth}-wide ones (mismatched components?)`,
    );
  }
  const timeIds = lastDim(unet.inputs.get('time_ids')!.shape);
  if (timeIds === 5)
    throw new ModelError('unet', 'takes 5 time_ids (with an aesthetic score): an SDXL refiner UNet, which is not supported');
  if (timeIds !== undefined && timeIds !== TIME_IDS)
    throw new ModelError('unet', `takes ${timeIds} time_ids; SDXL takes ${TIME_IDS} (original size, crop top-left, target size)`);
  const forceZeros = modelIndex?.force_zeros_for_empty_prompt ?? true;
  if (typeof forceZeros !== 'boolean')
    throw new ModelError(
      'model',
      `model_index.json: force_zeros_for_empty_prompt must be true or false (got ${JSON.stringify(forceZeros)})`,
    );
  return {
    pooledWidth,
    forceZerosForEmptyPrompt: forceZeros,
    textEmbedsFloat: floatInput(unet, 'text_embeds'),
    timeIdsFloat: floatInput(unet, 'time_ids'),
  };
}

/**
 * diffusers' SDXL pipelines decode in float32 when the VAE is float16 and its config asks for force_upcast
 * (the default: the original SDXL VAE overflows in float16); an fp16-fix VAE sets it to false.
 */
export function vaeDecodeMode(vaeFloat: FloatType, vaeConfig: Json | undefined): VaeDecodeMode {
  if (vaeFloat === 'float32') return 'as-is';
  const forceUpcast = vaeConfig?.force_upcast ?? true;
  if (typeof forceUpcast !== 'boolean')
    throw new ModelError('vae_decoder', `config.json: force_upcast must be true or false (got ${JSON.stringify(forceUpcast)})`);
  return forceUpcast ? 'upcast' : 'fp16-fixed';
}

/** What the result notes say about the VAE of an SDXL model (nothing for an fp32 VAE run as it is). */
export function vaeDecodeNote(mode: VaeDecodeMode): string | undefined {
  if (mode === 'upcast')
    return "VAE: the folder's float16 decoder runs in float32 (its config asks for force_upcast: SDXL's original VAE overflows in float16)";
  if (mode === 'fp16-fixed')
    return "VAE: the folder's float16 decoder runs in float16 (its config sets force_upcast false: an fp16-fixed VAE)";
  return undefined;
}
