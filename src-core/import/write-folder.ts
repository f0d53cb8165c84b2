// The non-network files of an imported diffusers-ONNX folder: model_index.json, the scheduler and
// component configs, the tokenizer, and import_info.json (what was imported, how, by which importer).
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_MODEL_DIR } from '../model/default-model.ts';
import type { Family, Prediction } from './detect.ts';
import { ImportError } from './weights.ts';
import { statRegularFile } from '../regular-file.ts';

type Json = Record<string, unknown>;

const NONE = [null, null];
const CLIP_TOKENIZER = ['transformers', 'CLIPTokenizer'];

/** A model_index.json as diffusers writes it (keys sorted): the entries every pipeline here has, and `entries`. */
function modelIndex(className: string, entries: Json): Json {
  const index: Json = {
    _class_name: className,
    _diffusers_version: '0.30.3',
    feature_extractor: NONE,
    scheduler: ['diffusers', 'EulerDiscreteScheduler'],
    tokenizer: CLIP_TOKENIZER,
    ...entries,
  };
  return Object.fromEntries(
    Object.keys(index)
      .sort()
      .map((key) => [key, index[key]]),
  );
}

/** What the pipeline's model_index.json names; the loader needs the file, peers read the class names. */
const MODEL_INDEX = modelIndex('OnnxStableDiffusionPipeline', {
  requires_safety_checker: false,
  safety_checker: NONE,
  ...Object.fromEntries(
    ['text_encoder', 'unet', 'vae_decoder', 'vae_encoder'].map((network) => [network, ['diffusers', 'OnnxRuntimeModel']]),
  ),
});

const TOKENIZER_FILES = ['vocab.json', 'merges.txt', 'tokenizer_config.json', 'special_tokens_map.json'];

export function writeJson(dir: string, name: string, value: unknown): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, name), JSON.stringify(value, null, 2) + '\n');
}

/**
 * SDXL's model_index.json as optimum's exporter writes it: the diffusers pipeline's own config (its class names,
 * a "vae" entry for vae_decoder/ and vae_encoder/), with force_zeros_for_empty_prompt, which the pipeline keeps there.
 */
function sdxlModelIndex(forceZerosForEmptyPrompt: boolean): Json {
  return modelIndex('StableDiffusionXLPipeline', {
    force_zeros_for_empty_prompt: forceZerosForEmptyPrompt,
    image_encoder: NONE,
    text_encoder: ['transformers', 'CLIPTextModel'],
    text_encoder_2: ['transformers', 'CLIPTextModelWithProjection'],
    tokenizer_2: CLIP_TOKENIZER,
    unet: ['diffusers', 'UNet2DConditionModel'],
    vae: ['diffusers', 'AutoencoderKL'],
  });
}

export function writeModelIndex(dir: string, family: Family = 'sd1', forceZerosForEmptyPrompt = true): void {
  writeJson(dir, 'model_index.json', family === 'sdxl' ? sdxlModelIndex(forceZerosForEmptyPrompt) : MODEL_INDEX);
}

export function writeComponentConfig(dir: string, component: string, config: Json): void {
  writeJson(join(dir, component), 'config.json', config);
}

export function writeSchedulerConfig(dir: string, config: Json, prediction: string): void {
  writeJson(join(dir, 'scheduler'), 'scheduler_config.json', { ...config, prediction_type: prediction });
}

/** The tokenizer folder writeTokenizer copies; throws when a file it needs is missing (checked before the long conversion). */
export function checkTokenizer(sourceDir: string | undefined): string {
  const from = sourceDir ?? join(DEFAULT_MODEL_DIR, 'tokenizer');
  for (const name of TOKENIZER_FILES) {
    if (name !== 'special_tokens_map.json' && !existsSync(join(from, name)))
      throw new ImportError(`the tokenizer folder ${from} has no ${name}`);
    // Copied at the end of the import: a pipe would block the copy, a device never end it.
    if (existsSync(join(from, name))) statRegularFile(join(from, name), { as: (e) => new ImportError(e.message) });
  }
  return from;
}

/**
 * The tokenizer: the source's own (a diffusers folder, or the folder given as the architecture), else
 * CLIP's standard one that the app ships with its built-in model. SD 2 (and SDXL's second tokenizer) pads
 * with "!" (id 0) where SD 1 pads with the end token; the encoder sees the padding, so it must be the
 * checkpoint family's. `folder`: tokenizer/ or SDXL's tokenizer_2/.
 */
export function writeTokenizer(dir: string, sourceDir: string | undefined, pad: 'end' | '!', folder = 'tokenizer'): void {
  const from = checkTokenizer(sourceDir);
  const to = join(dir, folder);
  mkdirSync(to, { recursive: true });
  for (const name of TOKENIZER_FILES) {
    const file = join(from, name);
    if (existsSync(file)) copyFileSync(file, join(to, name));
  }
  if (sourceDir !== undefined || pad === 'end') return;
  for (const name of ['tokenizer_config.json', 'special_tokens_map.json']) {
    const file = join(to, name);
    if (!existsSync(file)) continue;
    const config = JSON.parse(readFileSync(file, 'utf8')) as Json;
    writeJson(to, name, { ...config, pad_token: '!' });
  }
}

/**
 * import_info.json: what was imported, how, by which importer version (the fields the cache and the app read). The
 * optional fields may be missing from folders that earlier versions imported; this one writes them all.
 */
export interface ImportInfo {
  importerVersion: number;
  source: string;
  sourceHash?: string;
  family: Family;
  prediction: Prediction;
  predictionSource?: string;
  precision: 'fp32' | 'fp16';
  /** Whether unet_cuda/ (the UNet's CUDA graph) was written. */
  cudaGraph?: boolean;
  date?: string;
  notes?: string[];
}

export function writeImportInfo(
  dir: string,
  info: ImportInfo & Required<Pick<ImportInfo, 'predictionSource' | 'cudaGraph' | 'date' | 'notes'>>,
): void {
  writeJson(dir, 'import_info.json', info);
}
