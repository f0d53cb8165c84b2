// The importer's one entry point for reading a model: a single-file checkpoint (.safetensors in the
// LDM layout) or a diffusers folder, as diffusers-named WeightSources, diffusers configs, family and
// prediction type, with an optional separate VAE file and an optional config folder that overrides
// the configs inferred from a checkpoint.
import { existsSync, statSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { readConfigFolder, schedulerPrediction, type ComponentConfigs } from './checkpoint-configs.ts';
import {
  ARCHITECTURE_NAMES,
  FAMILY_NAMES,
  classifyCheckpoint,
  detectCheckpoint,
  type Architecture,
  type Family,
  type Prediction,
  type PredictionSource,
} from './detect.ts';
import { isDiffusersFolder, isDiffusersOnnxFolder, openDiffusersFolder, readDiffusersConfigs } from './diffusers-folder.ts';
import { mapVaeFile } from './ldm-keys.ts';
import { openLdmCheckpoint } from './ldm-source.ts';
import { SafetensorsFile, requireFloatWeights } from './safetensors.ts';
import { openSdxlCheckpoint } from './sdxl-source.ts';
import { ImportError, type WeightSource } from './weights.ts';
import { requireRegularFile } from '../regular-file.ts';

export interface ImportSourceOptions {
  /** A separate VAE .safetensors that replaces the checkpoint's (or the folder's) VAE. */
  vae?: string;
  /** A diffusers folder whose configs (and tokenizer) are used instead of those inferred. */
  config?: string;
  /** The user's choice of prediction type. */
  prediction?: Prediction;
}

export interface ImportWeights {
  unet: WeightSource;
  vae: WeightSource;
  textEncoder: WeightSource;
  /** SDXL's second text encoder (CLIPTextModelWithProjection names). */
  textEncoder2?: WeightSource;
}

export interface ImportSource {
  kind: 'checkpoint' | 'diffusers';
  path: string;
  family: Family;
  /** 'needs-test': SD 2 checkpoint with nothing saying which; run A1111's UNet test, then settlePrediction. */
  prediction: Prediction | 'needs-test';
  predictionSource: PredictionSource;
  configs: ComponentConfigs;
  /** The tokenizer folder of a diffusers folder or config folder; undefined: use CLIP's standard one. */
  tokenizerDir?: string;
  /** SDXL's second tokenizer folder; undefined: CLIP's standard one padding with "!". */
  tokenizer2Dir?: string;
  /** SDXL: whether an empty negative prompt means all-zero embeddings (model_index.json; SDXL base: true). */
  forceZerosForEmptyPrompt?: boolean;
  weights: ImportWeights;
  /** Checkpoint keys no component uses (EMA copies excepted); empty for diffusers folders. */
  unused: string[];
  notes: string[];
  /** Records the prediction type found by the UNet test: scheduler config, and SD 2 v-models' 768-pixel default size. */
  settlePrediction(prediction: Prediction): void;
  close(): void;
}

const PICKLE = /\.(ckpt|pt|pth|bin)$/i;

function refusePickle(path: string): void {
  if (PICKLE.test(path)) {
    throw new ImportError(
      `${basename(path)} is a PyTorch pickle; only .safetensors checkpoints are imported ` +
        `(loading a pickle can run code). Most model sites offer a .safetensors download`,
    );
  }
}

/** The files of a diffusers-ONNX folder's networks: the graph and its external weights. */
const ONNX_PART = /(\.onnx|\.onnx_data|\.onnx\.data|^weights\.pb)$/i;

/**
 * A network's file of a diffusers-ONNX folder (unet/model.onnx, its model.onnx_data) given where a model is expected:
 * refused naming the model folder to give instead (the folder above, or the one above that), where there is one.
 */
function refuseOnnxPart(path: string): void {
  if (!ONNX_PART.test(basename(path))) return;
  const model = [dirname(dirname(path)), dirname(path)].find((dir) => isDiffusersOnnxFolder(dir));
  throw new ImportError(
    model !== undefined
      ? `${basename(path)} is part of the diffusers-ONNX model folder ${model}, not a checkpoint: give that folder ` +
          'instead (it is used as it is, with no import)'
      : `${basename(path)} is an ONNX network file, not a checkpoint: give the diffusers-ONNX model folder that holds it ` +
          '(the folder with model_index.json, unet/, text_encoder/ and vae_decoder/), or a .safetensors checkpoint',
  );
}

/** The kind of thing at `path` (no weights read); ImportError when it is none of them. */
export function sourceKind(path: string): 'checkpoint' | 'diffusers' | 'diffusers-onnx' {
  if (!existsSync(path)) throw new ImportError(`${path} does not exist`);
  const stat = statSync(path);
  if (stat.isDirectory()) {
    if (isDiffusersOnnxFolder(path)) return 'diffusers-onnx';
    if (isDiffusersFolder(path)) return 'diffusers';
    throw new ImportError(`${basename(path)} is a folder but not a diffusers model folder (no model_index.json or unet/config.json)`);
  }
  // A pipe would block the first read until something writes to it; a device (/dev/zero) never ends.
  requireRegularFile(path, stat, { as: (e) => new ImportError(`${e.message}; give a .safetensors checkpoint or a model folder`) });
  refusePickle(path);
  refuseOnnxPart(path);
  return 'checkpoint';
}

export interface SourceInspection {
  kind: 'checkpoint' | 'diffusers' | 'diffusers-onnx';
  family?: Family;
  architecture?: Architecture;
  /** Why it cannot be imported, when it cannot. */
  problem?: string;
  notes: string[];
}

/** A quick look (headers and configs only) for the UI. ImportErrors become `problem`. */
export function inspectImportSource(path: string): SourceInspection {
  let kind: SourceInspection['kind'] = 'checkpoint';
  try {
    kind = sourceKind(path);
    if (kind === 'diffusers-onnx') return { kind, notes: ['already a diffusers-ONNX folder: add it directly'] };
    if (kind === 'diffusers') {
      const { family } = readDiffusersConfigs(path);
      return { kind, family, notes: [`diffusers folder (${FAMILY_NAMES[family]})`] };
    }
    const file = SafetensorsFile.open(path);
    try {
      const architecture = classifyCheckpoint(file.source());
      const family = architecture === 'sd1' || architecture === 'sd2' || architecture === 'sdxl' ? architecture : undefined;
      const notes = [`${ARCHITECTURE_NAMES[architecture]} checkpoint`];
      if (family) return { kind, family, architecture, notes };
      detectCheckpoint(file.source(), { path }); // throws the "not supported yet" error
      return { kind, architecture, notes };
    } finally {
      file.close();
    }
  } catch (error) {
    if (!(error instanceof ImportError)) throw error;
    return { kind, problem: error.message, notes: [] };
  }
}

/** Opens a checkpoint or diffusers folder for import. The caller must close() it. */
export async function openImportSource(path: string, options: ImportSourceOptions = {}): Promise<ImportSource> {
  const kind = sourceKind(path);
  if (kind === 'diffusers-onnx')
    throw new ImportError(`${basename(path)} is already a diffusers-ONNX folder: add it directly, it needs no import`);
  const opened: Array<{ close(): void }> = [];
  const close = () => opened.forEach((f) => f.close());
  try {
    const source = kind === 'diffusers' ? openFolder(path, options, opened) : openCheckpoint(path, options, opened);
    requireFloatWeights(source.weights.unet, 'UNet');
    requireFloatWeights(source.weights.vae, 'VAE');
    requireFloatWeights(source.weights.textEncoder, 'text encoder');
    if (source.weights.textEncoder2) requireFloatWeights(source.weights.textEncoder2, 'second text encoder');
    // The same object: settlePrediction updates it in place.
    return Object.assign(source, { close });
  } catch (error) {
    close();
    throw error;
  }
}

export type Opened = Omit<ImportSource, 'close'>;

function openFolder(path: string, options: ImportSourceOptions, opened: Array<{ close(): void }>): Opened {
  const folder = openDiffusersFolder(path, { prediction: options.prediction });
  opened.push(folder);
  if (options.config) folder.notes.push('the config folder is ignored for a diffusers folder, which has its own configs');
  // A separate VAE has SD's VAE architecture, which the folder's vae/config.json describes too.
  const weights = options.vae ? { ...folder.weights, vae: separateVae(options.vae, opened, folder.notes) } : folder.weights;
  return { ...folder, weights, kind: 'diffusers', path, unused: [], settlePrediction: () => undefined };
}

function openCheckpoint(path: string, options: ImportSourceOptions, opened: Array<{ close(): void }>): Opened {
  const file = SafetensorsFile.open(path);
  opened.push(file);
  const override = options.config ? readConfigFolder(options.config) : undefined;
  const raw = file.source();
  const detection = detectCheckpoint(raw, {
    path,
    prediction: options.prediction,
    configPrediction: schedulerPrediction(override?.scheduler),
  });
  const vaeFile = options.vae ? (notes: string[]) => separateVae(options.vae!, opened, notes) : undefined;
  const checkpoint = { path, detection, override, vaeFile, configName: options.config };
  return detection.family === 'sdxl' ? openSdxlCheckpoint(raw, checkpoint) : openLdmCheckpoint(raw, checkpoint);
}

/** The weights of a separate VAE file. */
export function separateVae(vaePath: string, opened: Array<{ close(): void }>, notes: string[]): WeightSource {
  refusePickle(vaePath);
  const file = SafetensorsFile.open(vaePath);
  opened.push(file);
  const { vae, unused } = mapVaeFile(file.source(), basename(vaePath));
  notes.push(`VAE from ${basename(vaePath)}${unused.length > 0 ? ` (${unused.length} of its tensors unused)` : ''}`);
  return vae;
}
