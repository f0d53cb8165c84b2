// A diffusers model folder (model_index.json; unet/, vae/, text_encoder/ with safetensors weights,
// whole, fp16-variant or sharded, and their configs) as WeightSources and configs. PyTorch pickles
// (.bin, .ckpt) are refused: loading a pickle can run code, and we never unpickle.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { readJsonObjectFile, type Json } from '../model/configs.ts';
import {
  readConfigFolder,
  schedulerPrediction,
  sdSchedulerConfig,
  type ComponentConfigs,
  type ConfigFolder,
} from './checkpoint-configs.ts';
import { ARCHITECTURE_NAMES, FAMILY_NAMES, type Family, type Prediction, type PredictionSource } from './detect.ts';
import { forceZerosOf } from './sdxl-source.ts';
import { sdxlSchedulerConfig } from './sdxl-configs.ts';
import { namedSource } from './ldm-keys.ts';
import { vaeDiffusersName } from './ldm-vae-keys.ts';
import { SafetensorsFile, type TensorRef } from './safetensors.ts';
import { ImportError, type WeightSource } from './weights.ts';

export interface DiffusersFolder {
  dir: string;
  family: Family;
  prediction: Prediction;
  predictionSource: PredictionSource;
  configs: ComponentConfigs;
  tokenizerDir?: string;
  tokenizer2Dir?: string;
  forceZerosForEmptyPrompt?: boolean;
  weights: { unet: WeightSource; vae: WeightSource; textEncoder: WeightSource; textEncoder2?: WeightSource };
  notes: string[];
  close(): void;
}

const isFile = (path: string) => existsSync(path) && statSync(path).isFile();

/** A diffusers-ONNX folder (the engine's own format): nothing to import. */
export function isDiffusersOnnxFolder(dir: string): boolean {
  return ['unet', 'text_encoder', 'vae_decoder'].some((c) => isFile(join(dir, c, 'model.onnx')));
}

/** Whether the folder looks like a diffusers model folder at all. */
export function isDiffusersFolder(dir: string): boolean {
  return isFile(join(dir, 'model_index.json')) || isFile(join(dir, 'unet', 'config.json'));
}

/**
 * The safetensors files of one component ("unet", "diffusion_pytorch_model"): the whole file, else
 * the fp16 variant, else a sharded index (either variant naming). Pickles only: ImportError.
 */
export function componentWeightFiles(dir: string, component: string, base: string): { files: string[]; index?: Record<string, string> } {
  const folder = join(dir, component);
  for (const name of [`${base}.safetensors`, `${base}.fp16.safetensors`]) {
    if (isFile(join(folder, name))) return { files: [join(folder, name)] };
  }
  for (const name of [`${base}.safetensors.index.json`, `${base}.safetensors.index.fp16.json`, `${base}.fp16.safetensors.index.json`]) {
    const path = join(folder, name);
    if (!isFile(path)) continue;
    const index = readJsonObjectFile(
      path,
      (problem, cause) =>
        new ImportError(`${component}/${name}: ${problem === 'not-object' ? 'not a JSON object' : (cause?.message ?? problem)}`),
    );
    const map = index.weight_map;
    if (
      map === null ||
      typeof map !== 'object' ||
      Array.isArray(map) ||
      !Object.values(map).every((f) => typeof f === 'string' && basename(f) === f)
    ) {
      throw new ImportError(`${component}/${name}: weight_map must map tensor names to shard file names in the same folder`);
    }
    const weightMap = map as Record<string, string>;
    return { files: [...new Set(Object.values(weightMap))].map((f) => join(folder, f)), index: weightMap };
  }
  const present = existsSync(folder) ? readdirSync(folder) : [];
  const pickle = present.find((f) => /\.(bin|ckpt|pt|pth)$/.test(f));
  if (pickle) {
    throw new ImportError(
      `${component}/${pickle} is a PyTorch pickle; only .safetensors weights are imported (loading a pickle can run ` +
        `code). Save the model with safetensors (diffusers: save_pretrained(..., safe_serialization=True)) and import that`,
    );
  }
  throw new ImportError(`${component}/ has no ${base}.safetensors (nor an fp16 variant or a sharded index)`);
}

/** Every tensor of a component under its own name (all shards together); files opened are added to `open`. */
export function componentWeights(dir: string, component: string, base: string, open: SafetensorsFile[]): Map<string, TensorRef> {
  const { files, index } = componentWeightFiles(dir, component, base);
  const refs = new Map<string, TensorRef>();
  for (const path of files) {
    const file = SafetensorsFile.open(path);
    open.push(file);
    for (const name of file.names()) refs.set(name, file.weight(name));
  }
  for (const [name, shard] of Object.entries(index ?? {})) {
    if (!refs.has(name)) throw new ImportError(`${component}: the index says tensor ${name} is in ${shard}, which does not have it`);
  }
  return refs;
}

/** SD 1, SD 2 or SDXL base from a folder's configs; ImportError naming anything else. */
function folderFamily(dir: string, modelIndex: Json | undefined, unet: Json, text: Json | undefined): Family {
  const pipeline = String(modelIndex?._class_name ?? '');
  const refuse = (what: string) =>
    new ImportError(`${basename(dir)} is ${what}: not supported yet; SD 1.x, SD 2.x and SDXL base models can be imported`);
  if (/XL/.test(pipeline) || existsSync(join(dir, 'text_encoder_2')) || unet.addition_embed_type === 'text_time') {
    // The refiner has only the OpenCLIP encoder and an aesthetic score among its time ids.
    if (modelIndex?.requires_aesthetics_score === true || !isFile(join(dir, 'text_encoder', 'config.json')))
      throw refuse(ARCHITECTURE_NAMES['sdxl-refiner']);
    if (unet.in_channels === 9) throw refuse(ARCHITECTURE_NAMES['sdxl-inpainting']);
    if (unet.addition_embed_type !== 'text_time' || !isFile(join(dir, 'text_encoder_2', 'config.json'))) {
      throw refuse(`an SDXL-like model without SDXL's two text encoders and text_time embedding (${pipeline || 'no model_index.json'})`);
    }
    return 'sdxl';
  }
  if (existsSync(join(dir, 'transformer')))
    throw refuse(
      /Flux/.test(pipeline)
        ? ARCHITECTURE_NAMES.flux
        : /3/.test(pipeline)
          ? ARCHITECTURE_NAMES.sd3
          : `a transformer-based model (${pipeline || 'no model_index.json'})`,
    );
  if (unet.in_channels === 9) throw refuse('an inpainting model (UNet with 9 input channels)');
  if (unet.in_channels === 8) throw refuse(ARCHITECTURE_NAMES['instruct-pix2pix']);
  if (unet.cross_attention_dim === 768) return 'sd1';
  if (unet.cross_attention_dim === 1024) return 'sd2';
  // Small or unusual models: the text encoder's activation tells OpenAI CLIP (SD 1) from OpenCLIP (SD 2).
  return text?.hidden_act === 'gelu' ? 'sd2' : 'sd1';
}

/** A diffusers folder's configs and family, without opening any weights (also what inspection needs). */
export function readDiffusersConfigs(dir: string): { family: Family; configs: ConfigFolder } {
  if (isDiffusersOnnxFolder(dir)) {
    throw new ImportError(`${basename(dir)} is already a diffusers-ONNX folder: add it directly, it needs no import`);
  }
  const modelIndex = isFile(join(dir, 'model_index.json'))
    ? readJsonObjectFile(join(dir, 'model_index.json'), () => new ImportError(`${basename(dir)}/model_index.json is not a JSON object`))
    : undefined;
  const configs = readConfigFolder(dir);
  for (const [key, file] of [
    ['unet', 'unet/config.json'],
    ['vae', 'vae/config.json'],
    ['textEncoder', 'text_encoder/config.json'],
  ] as const) {
    if (!configs[key]) throw new ImportError(`${basename(dir)}/${file} is missing`);
  }
  return { family: folderFamily(dir, modelIndex, configs.unet!, configs.textEncoder), configs };
}

/**
 * A text encoder's weights: text_model.* and (SDXL's second) text_projection.weight; position_ids is a buffer (often int64)
 * that the graph computes itself.
 */
function textWeights(dir: string, component: string, files: SafetensorsFile[]): Map<string, TensorRef> {
  const text = componentWeights(dir, component, 'model', files);
  for (const name of [...text.keys()]) {
    const kept = (name.startsWith('text_model.') && name !== 'text_model.embeddings.position_ids') || name === 'text_projection.weight';
    if (!kept) text.delete(name);
  }
  return text;
}

/** Opens a diffusers folder's weights and configs. */
export function openDiffusersFolder(dir: string, options: { prediction?: Prediction } = {}): DiffusersFolder {
  const { family, configs } = readDiffusersConfigs(dir);
  const files: SafetensorsFile[] = [];
  const close = () => files.forEach((f) => f.close());
  try {
    const unet = componentWeights(dir, 'unet', 'diffusion_pytorch_model', files);
    const vae = new Map(
      [...componentWeights(dir, 'vae', 'diffusion_pytorch_model', files)].map(([name, ref]) => [vaeDiffusersName(name), ref]),
    );
    const text = textWeights(dir, 'text_encoder', files);
    const text2 = family === 'sdxl' ? textWeights(dir, 'text_encoder_2', files) : undefined;
    const stated = schedulerPrediction(configs.scheduler);
    const prediction = options.prediction ?? stated ?? 'epsilon';
    const predictionSource: PredictionSource = options.prediction ? 'user' : stated ? 'config' : 'default';
    const name = basename(dir);
    const predictionFrom =
      predictionSource === 'config'
        ? 'from scheduler/scheduler_config.json'
        : predictionSource === 'user'
          ? 'as chosen'
          : 'no prediction_type in the scheduler config';
    return {
      dir,
      family,
      prediction,
      predictionSource,
      configs: {
        unet: configs.unet!,
        vae: configs.vae!,
        textEncoder: configs.textEncoder!,
        ...(family === 'sdxl' ? { textEncoder2: configs.textEncoder2! } : {}),
        scheduler: configs.scheduler ?? (family === 'sdxl' ? sdxlSchedulerConfig(prediction) : sdSchedulerConfig(prediction)),
      },
      tokenizerDir: configs.tokenizerDir,
      ...(family === 'sdxl' ? { tokenizer2Dir: configs.tokenizer2Dir, forceZerosForEmptyPrompt: forceZerosOf(configs.modelIndex) } : {}),
      weights: {
        unet: namedSource(unet, `unet of ${name}`),
        vae: namedSource(vae, `vae of ${name}`),
        textEncoder: namedSource(text, `text_encoder of ${name}`),
        ...(text2 ? { textEncoder2: namedSource(text2, `text_encoder_2 of ${name}`) } : {}),
      },
      notes: [`diffusers folder (${FAMILY_NAMES[family]})`, `prediction type ${prediction} (${predictionFrom})`],
      close,
    };
  } catch (error) {
    close();
    throw error;
  }
}
