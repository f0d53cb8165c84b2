// An SD 1 / SD 2 single-file checkpoint (LDM layout) opened for import: its weights under diffusers names
// (ldm-keys.ts) and its configs, inferred from the shapes (checkpoint-configs.ts) or taken from a config folder where
// it has them. The options and notes are those of an SDXL checkpoint too (sdxl-source.ts).
import { basename } from 'node:path';
import type { Json } from '../model/configs.ts';
import { inferConfigs, type ComponentConfigs, type ConfigFolder } from './checkpoint-configs.ts';
import type { Detection, Family, Prediction } from './detect.ts';
import { mapLdmCheckpoint, type LeftOver, type MappedCheckpoint } from './ldm-keys.ts';
import type { Opened } from './source.ts';
import type { WeightSource } from './weights.ts';

export interface CheckpointOptions {
  path: string;
  detection: Detection;
  /** The config folder's configs (a diffusers folder), which win over inferred ones. */
  override?: ConfigFolder;
  configName?: string;
  /** Opens the separate VAE file, when one replaces the checkpoint's VAE. */
  vaeFile?: (notes: string[]) => WeightSource;
}

/** A positive whole number in a config (e.g. a config folder's num_hidden_layers), else undefined. */
export function numberOf(config: Json | undefined, key: string): number | undefined {
  const value = config?.[key];
  return typeof value === 'number' && Number.isInteger(value) && value > 0 ? value : undefined;
}

/** The detection's notes, then what the key map left over and where the configs come from. */
export function checkpointNotes(options: CheckpointOptions, mapped: LeftOver): string[] {
  const notes = [...options.detection.notes];
  const { unused, emaIgnored } = mapped;
  if (emaIgnored > 0) notes.push(`${emaIgnored} EMA tensors (model_ema.*) ignored`);
  if (unused.length > 0) notes.push(`${unused.length} tensors unused: ${unused.slice(0, 5).join(', ')}${unused.length > 5 ? ', …' : ''}`);
  if (options.override) notes.push(`configs from ${options.configName} where it has them`);
  return notes;
}

/** The inferred configs (SD 2 v-models: 768 pixels; 'needs-test': epsilon until settled), or the config folder's where it has one. */
function ldmConfigs(
  weights: Omit<MappedCheckpoint, keyof LeftOver>,
  family: Family,
  prediction: Prediction | 'needs-test',
  override: ConfigFolder | undefined,
): ComponentConfigs {
  const inferred = inferConfigs(weights, family, prediction);
  return {
    unet: override?.unet ?? inferred.unet,
    vae: override?.vae ?? inferred.vae,
    textEncoder: override?.textEncoder ?? inferred.textEncoder,
    scheduler: override?.scheduler ?? inferred.scheduler,
  };
}

export function openLdmCheckpoint(raw: WeightSource, options: CheckpointOptions): Opened {
  const { path, detection, override } = options;
  const mapped = mapLdmCheckpoint(raw, {
    textLayers: numberOf(override?.textEncoder, 'num_hidden_layers'),
    label: basename(path),
    requireVae: !options.vaeFile,
  });
  const notes = checkpointNotes(options, mapped);
  const vae = options.vaeFile ? options.vaeFile(notes) : mapped.vae;
  const weights = { unet: mapped.unet, vae, textEncoder: mapped.textEncoder };
  const family = detection.family;
  const configs = ldmConfigs(weights, family, detection.prediction, override);
  const source: Opened = {
    kind: 'checkpoint',
    path,
    family,
    prediction: detection.prediction,
    predictionSource: detection.predictionSource,
    configs,
    tokenizerDir: override?.tokenizerDir,
    weights,
    unused: mapped.unused,
    notes,
    /** The UNet test's answer: the scheduler config's type, and SD 2 v-models' 768-pixel default size. */
    settlePrediction(prediction) {
      source.prediction = prediction;
      source.predictionSource = 'detected';
      Object.assign(configs, ldmConfigs(weights, family, prediction, override));
    },
  };
  return source;
}
