// An SDXL base checkpoint (SGM layout) opened for import: its weights under diffusers names (sdxl-keys.ts) and
// its configs, inferred from the shapes (sdxl-configs.ts) or taken from a config folder where it has them.
import { basename } from 'node:path';
import type { Json } from '../model/configs.ts';
import { inferTextConfig } from './checkpoint-configs.ts';
import type { Prediction } from './detect.ts';
import { checkpointNotes, numberOf, type CheckpointOptions } from './ldm-source.ts';
import { inferSdxlText2Config, inferSdxlUNetConfig, inferSdxlVaeConfig, sdxlSchedulerConfig } from './sdxl-configs.ts';
import { mapSgmCheckpoint } from './sdxl-keys.ts';
import type { Opened } from './source.ts';
import type { WeightSource } from './weights.ts';

/** diffusers' StableDiffusionXLPipeline default (true), or what the config folder's model_index.json says. */
export function forceZerosOf(modelIndex: Json | undefined): boolean {
  return modelIndex?.force_zeros_for_empty_prompt !== false;
}

export function openSdxlCheckpoint(raw: WeightSource, options: CheckpointOptions): Opened {
  const { path, detection, override } = options;
  const label = basename(path);
  const mapped = mapSgmCheckpoint(raw, {
    label,
    requireVae: !options.vaeFile,
    textLayers: numberOf(override?.textEncoder, 'num_hidden_layers'),
    text2Layers: numberOf(override?.textEncoder2, 'num_hidden_layers'),
  });
  const notes = checkpointNotes(options, mapped);
  const vae = options.vaeFile ? options.vaeFile(notes) : mapped.vae;
  const weights = { unet: mapped.unet, vae, textEncoder: mapped.textEncoder, textEncoder2: mapped.textEncoder2 };
  // SDXL's prediction type is known from the file (v_pred key) or the user; it never needs the UNet test.
  const prediction: Prediction = detection.prediction === 'needs-test' ? 'epsilon' : detection.prediction;
  const textEncoder2 = override?.textEncoder2 ?? inferSdxlText2Config(weights.textEncoder2);
  const projectionDim =
    typeof textEncoder2.projection_dim === 'number'
      ? textEncoder2.projection_dim
      : weights.textEncoder2.get('text_projection.weight').shape[0]!;
  return {
    kind: 'checkpoint',
    path,
    family: 'sdxl',
    prediction,
    predictionSource: detection.predictionSource,
    configs: {
      unet: override?.unet ?? inferSdxlUNetConfig(weights.unet, projectionDim),
      vae: override?.vae ?? inferSdxlVaeConfig(weights.vae),
      textEncoder: override?.textEncoder ?? inferTextConfig(weights.textEncoder, 'sd1'),
      textEncoder2,
      scheduler: override?.scheduler ?? sdxlSchedulerConfig(prediction),
    },
    tokenizerDir: override?.tokenizerDir,
    tokenizer2Dir: override?.tokenizer2Dir,
    forceZerosForEmptyPrompt: forceZerosOf(override?.modelIndex),
    weights,
    unused: mapped.unused,
    notes,
    settlePrediction: () => undefined,
  };
}
