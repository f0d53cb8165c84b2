// What the model picker shows about a diffusers-ONNX folder without loading it: SD 1 or SD 2 (the
// text encoder's width), the prediction type (the scheduler config), the precision (the UNet's
// `sample` input type, read from model.onnx's graph inputs) and the size on disk. Cheap enough to run
// for every folder in the list: configs are tiny and the ONNX file is only walked, never read whole.
import { closeSync, existsSync, lstatSync, openSync, readdirSync, readFileSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import onnxProto from 'onnx-proto';
import type { ModelSummary } from '../src-core/contract/models.ts';
import { readImportInfo } from '../src-core/import/cache.ts';
import { REQUIRED_FILES as TOKENIZER_FILES } from '../src-core/tokenizer/tokenizer-files.ts';

const { onnx } = onnxProto;

export type ModelFacts = Pick<ModelSummary, 'family' | 'prediction' | 'precision' | 'bytes'> & { source?: string };

/** A diffusers-ONNX folder the engine can load: model_index.json and a UNet graph. */
export function isOnnxModelFolder(dir: string): boolean {
  return existsSync(join(dir, 'model_index.json')) && existsSync(join(dir, 'unet', 'model.onnx'));
}

/** What the engine cannot load a diffusers-ONNX folder without (SDXL's second encoder needs its own tokenizer too). */
const REQUIRED_PARTS = ['model_index.json', 'unet/model.onnx', 'text_encoder/model.onnx', 'vae_decoder/model.onnx'];

/** The required parts a diffusers-ONNX folder lacks ("tokenizer/" when the whole folder is absent); [] when complete. */
export function missingModelParts(dir: string): string[] {
  const missing = REQUIRED_PARTS.filter((part) => !existsSync(join(dir, part)));
  const tokenizers = existsSync(join(dir, 'text_encoder_2')) ? ['tokenizer', 'tokenizer_2'] : ['tokenizer'];
  for (const tokenizer of tokenizers) {
    const files = TOKENIZER_FILES.filter((file) => !existsSync(join(dir, tokenizer, file)));
    if (files.length === TOKENIZER_FILES.length) missing.push(`${tokenizer}/`);
    else missing.push(...files.map((file) => `${tokenizer}/${file}`));
  }
  return missing;
}

function readConfig(path: string): Record<string, unknown> | null {
  try {
    const value = JSON.parse(readFileSync(path, 'utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? value : null;
  } catch {
    return null;
  }
}

function familyOf(dir: string): ModelSummary['family'] {
  if (existsSync(join(dir, 'text_encoder_2', 'model.onnx'))) return 'SDXL';
  const width =
    readConfig(join(dir, 'text_encoder', 'config.json'))?.hidden_size ?? readConfig(join(dir, 'unet', 'config.json'))?.cross_attention_dim;
  return width === 768 ? 'SD 1' : width === 1024 ? 'SD 2' : null;
}

function predictionOf(dir: string): ModelSummary['prediction'] {
  const config = readConfig(join(dir, 'scheduler', 'scheduler_config.json'));
  if (!config) return null;
  // diffusers' default when the key is absent.
  const type = config.prediction_type ?? 'epsilon';
  return type === 'epsilon' || type === 'v_prediction' ? type : null;
}

/** Bytes of the regular files under `dir` (links are not followed). */
export function folderSize(dir: string, depth = 0): number {
  let total = 0;
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return 0;
  }
  for (const name of names) {
    const path = join(dir, name);
    try {
      const stat = lstatSync(path);
      if (stat.isFile()) total += stat.size;
      else if (stat.isDirectory() && depth < 4) total += folderSize(path, depth + 1);
    } catch {
      // removed meanwhile
    }
  }
  return total;
}

/** Reads a protobuf varint at `pos`; [value, next position], or null past `end`. */
function varintAt(fd: number, pos: number, end: number): [number, number] | null {
  const bytes = Buffer.alloc(10);
  const n = readSync(fd, bytes, 0, Math.min(10, end - pos), pos);
  let value = 0;
  for (let i = 0; i < n; i++) {
    value += (bytes[i] & 0x7f) * 2 ** (7 * i);
    if ((bytes[i] & 0x80) === 0) return [value, pos + i + 1];
  }
  return null;
}

/**
 * The fields of one protobuf message between `start` and `end`, as [field number, start, end] of each
 * length-delimited field; other wire types are stepped over. Lets a 2 GB model.onnx with weights inline
 * be walked to its graph inputs with a few small reads (the decoding itself is onnx-proto's).
 */
function lengthDelimitedFields(fd: number, start: number, end: number, wanted: number): Array<[number, number]> {
  const found: Array<[number, number]> = [];
  let pos = start;
  while (pos < end) {
    const tag = varintAt(fd, pos, end);
    if (!tag) break;
    const [key, afterTag] = tag;
    const field = Math.floor(key / 8);
    switch (key % 8) {
      case 0: {
        const v = varintAt(fd, afterTag, end);
        if (!v) return found;
        pos = v[1];
        break;
      }
      case 1:
        pos = afterTag + 8;
        break;
      case 5:
        pos = afterTag + 4;
        break;
      case 2: {
        const len = varintAt(fd, afterTag, end);
        if (!len) return found;
        if (field === wanted) found.push([len[1], len[1] + len[0]]);
        pos = len[1] + len[0];
        break;
      }
      default:
        return found;
    }
  }
  return found;
}

/** The element type of a graph input of an ONNX file ('float32', 'float16', ...), or null. */
export function onnxInputType(file: string, input: string): string | null {
  let fd: number | undefined;
  try {
    fd = openSync(file, 'r');
    const size = statSync(file).size;
    const [graph] = lengthDelimitedFields(fd, 0, size, 7); // ModelProto.graph
    if (!graph) return null;
    for (const [start, end] of lengthDelimitedFields(fd, graph[0], graph[1], 11)) {
      // GraphProto.input
      if (end - start > 1 << 20) continue;
      const bytes = Buffer.alloc(end - start);
      readSync(fd, bytes, 0, bytes.length, start);
      const info = onnx.ValueInfoProto.decode(bytes);
      if (info.name !== input) continue;
      const type = info.type?.tensorType?.elemType;
      return type === onnx.TensorProto.DataType.FLOAT ? 'float32' : type === onnx.TensorProto.DataType.FLOAT16 ? 'float16' : String(type);
    }
    return null;
  } catch {
    return null;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

function precisionOf(dir: string): ModelSummary['precision'] {
  const type = onnxInputType(join(dir, 'unet', 'model.onnx'), 'sample');
  return type === 'float32' ? 'fp32' : type === 'float16' ? 'fp16' : null;
}

const IMPORTED_FAMILIES: Record<string, ModelSummary['family']> = { sd1: 'SD 1', sd2: 'SD 2', sdxl: 'SDXL' };

const cache = new Map<string, { stamp: string; facts: ModelFacts }>();

/** The picker's facts about a model folder; remembered while its unet/model.onnx and configs stay unchanged. */
export function modelFacts(dir: string): ModelFacts {
  let stamp: string;
  try {
    const unet = statSync(join(dir, 'unet', 'model.onnx'));
    const scheduler = existsSync(join(dir, 'scheduler', 'scheduler_config.json'))
      ? statSync(join(dir, 'scheduler', 'scheduler_config.json')).mtimeMs
      : 0;
    stamp = `${unet.size}:${unet.mtimeMs}:${scheduler}`;
  } catch {
    return { family: null, prediction: null, precision: null, bytes: folderSize(dir) };
  }
  const known = cache.get(dir);
  if (known?.stamp === stamp) return known.facts;
  const imported = readImportInfo(dir);
  const facts: ModelFacts = {
    family: imported ? (IMPORTED_FAMILIES[imported.family] ?? null) : familyOf(dir),
    prediction: predictionOf(dir) ?? imported?.prediction ?? null,
    precision: imported?.precision ?? precisionOf(dir),
    bytes: folderSize(dir),
    ...(imported ? { source: imported.source } : {}),
  };
  cache.set(dir, { stamp, facts });
  return facts;
}
