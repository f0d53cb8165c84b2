// The non-network files of an imported diffusers-ONNX folder: model_index.json, the scheduler and
// component configs, the tokenizer, and import_info.json (what was imported, how, by which importer).
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_MODEL_DIR } from '../model/default-model.ts';
import { ImportError } from './weights.ts';

type Json = Record<string, unknown>;

/** What the pipeline's model_index.json names; the loader needs the file, peers read the class names. */
const MODEL_INDEX = {
  _class_name: 'OnnxStableDiffusionPipeline',
  _diffusers_version: '0.30.3',
  feature_extractor: [null, null],
  requires_safety_checker: false,
  safety_checker: [null, null],
  scheduler: ['diffusers', 'EulerDiscreteScheduler'],
  text_encoder: ['diffusers', 'OnnxRuntimeModel'],
  tokenizer: ['transformers', 'CLIPTokenizer'],
  unet: ['diffusers', 'OnnxRuntimeModel'],
  vae_decoder: ['diffusers', 'OnnxRuntimeModel'],
  vae_encoder: ['diffusers', 'OnnxRuntimeModel'],
};

const TOKENIZER_FILES = ['vocab.json', 'merges.txt', 'tokenizer_config.json', 'special_tokens_map.json'];

export function writeJson(dir: string, name: string, value: unknown): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, name), JSON.stringify(value, null, 2) + '\n');
}

export function writeModelIndex(dir: string): void {
  writeJson(dir, 'model_index.json', MODEL_INDEX);
}

export function writeComponentConfig(dir: string, component: string, config: Json): void {
  writeJson(join(dir, component), 'config.json', config);
}

export function writeSchedulerConfig(dir: string, config: Json, prediction: string): void {
  writeJson(join(dir, 'scheduler'), 'scheduler_config.json', { ...config, prediction_type: prediction });
}

/**
 * The tokenizer: the source's own (a diffusers folder, or the folder given as the architecture), else
 * CLIP's standard one that the app ships with its built-in model. SD 2 pads with "!" (id 0) where SD 1
 * pads with the end token; the encoder sees the padding, so it must be the checkpoint family's.
 */
export function writeTokenizer(dir: string, sourceDir: string | undefined, family: 'sd1' | 'sd2'): void {
  const from = sourceDir ?? join(DEFAULT_MODEL_DIR, 'tokenizer');
  const to = join(dir, 'tokenizer');
  mkdirSync(to, { recursive: true });
  for (const name of TOKENIZER_FILES) {
    const file = join(from, name);
    if (existsSync(file)) copyFileSync(file, join(to, name));
    else if (name !== 'special_tokens_map.json') throw new ImportError(`the tokenizer folder ${from} has no ${name}`);
  }
  if (sourceDir !== undefined || family === 'sd1') return;
  for (const name of ['tokenizer_config.json', 'special_tokens_map.json']) {
    const file = join(to, name);
    if (!existsSync(file)) continue;
    const config = JSON.parse(readFileSync(file, 'utf8')) as Json;
    writeJson(to, name, { ...config, pad_token: '!' });
  }
}

export interface ImportInfo {
  importerVersion: number;
  source: string;
  sourceHash?: string;
  family: 'sd1' | 'sd2';
  prediction: string;
  predictionSource: string;
  precision: 'fp32' | 'fp16';
  date: string;
  notes: string[];
}

export function writeImportInfo(dir: string, info: ImportInfo): void {
  writeJson(dir, 'import_info.json', info);
}
