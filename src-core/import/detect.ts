// What a single-file checkpoint is, from its tensor names and shapes alone (as A1111's
// guess_model_config_from_state_dict and diffusers' infer_diffusers_model_type do), and which
// prediction type it was trained for: a .yaml beside it (A1111's habit), the user's choice, SD 1's
// epsilon, or, for SD 2, a test run of the UNet that the importer does once the UNet is built.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, extname } from 'node:path';
import { ImportError, type WeightSource } from './weights.ts';

export type Family = 'sd1' | 'sd2' | 'sdxl';
export type Prediction = 'epsilon' | 'v_prediction';
/** Where the prediction type came from; 'detected' is set by the importer after the UNet test. */
export type PredictionSource = 'user' | 'yaml' | 'config' | 'default' | 'needs-test' | 'detected';

export type Architecture =
  | 'sd1'
  | 'sd2'
  | 'sd1-inpainting'
  | 'sd2-inpainting'
  | 'instruct-pix2pix'
  | 'sdxl'
  | 'sdxl-inpainting'
  | 'sdxl-refiner'
  | 'sdxl-edm'
  | 'sd3'
  | 'flux'
  | 'controlnet'
  | 'upscaler'
  | 'sd2-unclip'
  | 'sd2-depth'
  | 'alt-diffusion'
  | 'lora'
  | 'vae'
  | 'diffusers-component'
  | 'unknown';

/** The supported families in words. */
export const FAMILY_NAMES: Record<Family, string> = { sd1: 'SD 1.x', sd2: 'SD 2.x', sdxl: 'SDXL' };

/** Words for the user, used in "X is not supported yet". */
export const ARCHITECTURE_NAMES: Record<Architecture, string> = {
  sd1: 'Stable Diffusion 1.x',
  sd2: 'Stable Diffusion 2.x',
  'sd1-inpainting': 'an SD 1.x inpainting model (UNet with 9 input channels)',
  'sd2-inpainting': 'an SD 2.x inpainting model (UNet with 9 input channels)',
  'instruct-pix2pix': 'an InstructPix2Pix model (UNet with 8 input channels)',
  sdxl: 'Stable Diffusion XL',
  'sdxl-inpainting': 'an SDXL inpainting model',
  'sdxl-refiner': 'the Stable Diffusion XL refiner (it refines SDXL base images; import the base model)',
  'sdxl-edm': 'an SDXL-architecture model with an EDM noise schedule (Playground v2.5)',
  sd3: 'Stable Diffusion 3',
  flux: 'FLUX.1',
  controlnet: 'a ControlNet',
  upscaler: 'the Stable Diffusion x4 upscaler',
  'sd2-unclip': 'a Stable unCLIP model',
  'sd2-depth': 'an SD 2 depth-to-image model',
  'alt-diffusion': 'AltDiffusion',
  lora: 'a LoRA (it modifies a model and is not one itself)',
  vae: 'a VAE on its own (pass it as the separate VAE of a checkpoint)',
  'diffusers-component': 'a single diffusers component file (import its whole diffusers folder instead)',
  unknown: 'not a Stable Diffusion checkpoint this importer recognises',
};

const UNET_IN = 'model.diffusion_model.input_blocks.0.0.weight';
const SD2_QKV = 'cond_stage_model.model.transformer.resblocks.0.attn.in_proj_weight';

/** The architecture of an LDM-layout (single-file) checkpoint from its tensor names and shapes. */
export function classifyCheckpoint(weights: WeightSource): Architecture {
  const keys = weights.names();
  const any = (test: (k: string) => boolean) => keys.some(test);
  const starts = (prefix: string) => any((k) => k.startsWith(prefix));
  if (any((k) => k.startsWith('lora_unet_') || k.startsWith('lora_te') || /\.lora_(up|down|A|B)\.|\.lora\.(up|down)\./.test(k)))
    return 'lora';
  if (starts('double_blocks.') || starts('model.diffusion_model.double_blocks.')) return 'flux';
  if (starts('model.diffusion_model.joint_blocks.') || starts('joint_blocks.')) return 'sd3';
  const inChannels = weights.has(UNET_IN) ? weights.get(UNET_IN).shape[1] : undefined;
  if (starts('conditioner.embedders.1.')) {
    if (inChannels === 9) return 'sdxl-inpainting';
    // Playground v2.5 keeps its EDM schedule's parameters as top-level tensors (diffusers' own test).
    return weights.has('edm_mean') || weights.has('edm_std') ? 'sdxl-edm' : 'sdxl';
  }
  if (starts('conditioner.embedders.0.')) return 'sdxl-refiner';
  if (starts('control_model.')) return 'controlnet';
  if (starts('depth_model.')) return 'sd2-depth';
  if (starts('embedder.model.')) return 'sd2-unclip';
  if (starts('cond_stage_model.roberta.')) return 'alt-diffusion';
  if (weights.has('model.diffusion_model.input_blocks.10.0.skip_connection.bias') && inChannels === 7) return 'upscaler';
  if (inChannels !== undefined) {
    const sd2 = weights.has(SD2_QKV) || starts('cond_stage_model.model.');
    if (inChannels === 9) return sd2 ? 'sd2-inpainting' : 'sd1-inpainting';
    if (inChannels === 8) return 'instruct-pix2pix';
    if (inChannels !== 4) return 'unknown';
    if (sd2) return 'sd2';
    if (starts('cond_stage_model.transformer.')) return 'sd1';
    return 'unknown';
  }
  const bare = (k: string) => k.replace(/^(first_stage_model|vae)\./, '');
  if (keys.length > 0 && keys.every((k) => /^(encoder|decoder|quant_conv|post_quant_conv|loss)\./.test(bare(k)))) return 'vae';
  if (any((k) => /^(down_blocks|mid_block|text_model)\./.test(k))) return 'diffusers-component';
  return 'unknown';
}

/** SD 1, SD 2 or SDXL for a supported checkpoint; an ImportError that says what it is otherwise. */
export function requireSupported(architecture: Architecture, file: string): Family {
  if (architecture === 'sd1' || architecture === 'sd2' || architecture === 'sdxl') return architecture;
  if (architecture === 'unknown')
    throw new ImportError(
      `${basename(file)} is ${ARCHITECTURE_NAMES.unknown} (no model.diffusion_model.* ` +
        `UNet with a cond_stage_model.* or conditioner.* text encoder)`,
    );
  throw new ImportError(`${basename(file)} is ${ARCHITECTURE_NAMES[architecture]}: not supported yet; ${SUPPORTED}`);
}

/** What can be imported, for refusals. */
export const SUPPORTED = 'SD 1.x, SD 2.x and SDXL base checkpoints can be imported';

/** A1111's LDM config habit: a .yaml beside the checkpoint with `parameterization: "v"` for v-models. */
export function yamlBeside(checkpoint: string): string | undefined {
  const path = checkpoint.slice(0, checkpoint.length - extname(checkpoint).length) + '.yaml';
  return existsSync(path) && statSync(path).isFile() ? path : undefined;
}

/** The prediction type an LDM config states (its default, when it says nothing, is eps). */
export function predictionFromYaml(text: string): Prediction {
  const match = /^\s*parameterization\s*:\s*["']?([A-Za-z0-9_]+)["']?\s*(#.*)?$/m.exec(text);
  if (!match || match[1] === 'eps') return 'epsilon';
  if (match[1] === 'v') return 'v_prediction';
  throw new ImportError(`the .yaml beside the checkpoint says parameterization "${match[1]}"; eps and v are supported`);
}

export interface Detection {
  family: Family;
  architecture: Architecture;
  /** 'needs-test' when the importer must run A1111's UNet test (SD 2 without a yaml or a user choice). */
  prediction: Prediction | 'needs-test';
  predictionSource: PredictionSource;
  notes: string[];
}

export interface DetectOptions {
  /** The checkpoint's path, to find a .yaml beside it and to name it in errors. */
  path: string;
  /** The user's choice; wins over everything. */
  prediction?: Prediction;
  /** prediction_type of an override scheduler config, if one was given. */
  configPrediction?: Prediction;
}

/** What the checkpoint is and what it predicts; throws ImportError for architectures not supported yet. */
export function detectCheckpoint(weights: WeightSource, options: DetectOptions): Detection {
  const architecture = classifyCheckpoint(weights);
  const family = requireSupported(architecture, options.path);
  const notes: string[] = [`${ARCHITECTURE_NAMES[architecture]} checkpoint`];
  if (family === 'sd2' && weights.has(SD2_QKV) && weights.get(SD2_QKV).shape[1] !== 1024) {
    notes.push(`its OpenCLIP text encoder is ${weights.get(SD2_QKV).shape[1]} wide (SD 2's is 1024)`);
  }
  const found = (prediction: Detection['prediction'], predictionSource: PredictionSource, note?: string): Detection => ({
    family,
    architecture,
    prediction,
    predictionSource,
    notes: note ? [...notes, note] : notes,
  });
  const yaml = yamlBeside(options.path);
  if (options.prediction) return found(options.prediction, 'user', `prediction type ${options.prediction}, as chosen`);
  if (yaml) {
    const prediction = predictionFromYaml(readFileSync(yaml, 'utf8'));
    return found(prediction, 'yaml', `prediction type ${prediction}, from ${basename(yaml)}`);
  }
  if (options.configPrediction) {
    const from = "from the config folder's scheduler config";
    return found(options.configPrediction, 'config', `prediction type ${options.configPrediction}, ${from}`);
  }
  if (family === 'sdxl') {
    // v-prediction SDXL fine-tunes carry an empty "v_pred" tensor (ComfyUI's and Forge's test); "ztsnr" marks zero-terminal-SNR training.
    if (weights.has('v_pred')) {
      const ztsnr = weights.has('ztsnr') ? "; it was trained with zero terminal SNR, which the engine's schedule does not reproduce" : '';
      return found('v_prediction', 'detected', `prediction type v_prediction (the checkpoint has a v_pred key)${ztsnr}`);
    }
    return found('epsilon', 'default', 'prediction type epsilon (SDXL base and its fine-tunes, unless the file has a v_pred key)');
  }
  if (family === 'sd1') {
    return found('epsilon', 'default', 'prediction type epsilon (every SD 1 model unless a .yaml beside it says otherwise)');
  }
  return found('needs-test', 'needs-test');
}

/** A1111's v-prediction test (is_using_v_parameterization_for_sd2), for the importer to run on the built UNet. */
export const V_PREDICTION_TEST = {
  sample: { shape: [1, 4, 8, 8], value: 0.5 },
  timestep: 999,
  context: { tokens: 2, value: 0.5 },
  /** v when mean(output - sample) is below this. */
  threshold: -1,
} as const;
