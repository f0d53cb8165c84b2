// AUTOMATIC1111's "Clip skip" for SD 1.x (sd_hijack_clip.py, encode_with_transformers): with clip skip k > 1 the
// prompt is conditioned on hidden_states[-k] passed through the text encoder's final_layer_norm, instead of
// last_hidden_state; emphasis is applied after that, as to last_hidden_state. A1111 ignores the setting for SD 2
// (OpenCLIP, sd_hijack_open_clip.py) and, by default, for SDXL (sdxl_clip_l_skip off): so does this app, with a
// note, and without writing "Clip skip" into those PNGs. The importer writes every hidden state (hidden_states.0,
// the embeddings, to hidden_states.L); the final layer norm's weights are read from the text encoder's graph.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import onnxProto from 'onnx-proto';
import { RequestError, type GenerateRequest } from '../contract/generate.ts';
import { configInteger, configNumber, readJson } from './configs.ts';
import { ModelError } from './errors.ts';
import { floatInitializerValues } from './float-precision.ts';
import type { ModelInfo, StableDiffusionModel } from './model.ts';
import type { TextEncoderPart } from './text-encoders.ts';

const { onnx } = onnxProto;
const HIDDEN_STATE = /^hidden_states\.(\d+)$/;
const NORM = 'text_model.final_layer_norm';

/** CLIP's final_layer_norm: what hidden states pass through to become last_hidden_state. */
export interface FinalLayerNorm {
  weight: Float32Array;
  bias: Float32Array;
  eps: number;
}

/** The clip skip a request asks for (1 where absent). */
export const clipSkipOf = (request: Pick<GenerateRequest, 'clipSkip'>): number => request.clipSkip ?? 1;

/**
 * SD 2's text encoder is OpenCLIP in Hugging Face's form: CLIPTextModel with gelu, where SD 1's (OpenAI CLIP) has
 * quick_gelu. An import says its family; other folders are told apart by the activation.
 */
function isOpenClip(dir: string): boolean {
  try {
    const family = (JSON.parse(readFileSync(join(dir, 'import_info.json'), 'utf8')) as { family?: unknown }).family;
    if (family === 'sd2') return true;
    if (family === 'sd1') return false;
  } catch {
    // no import_info.json (or an unreadable one): the config decides
  }
  return readJson(dir, 'text_encoder/config.json', 'text_encoder', false)?.hidden_act === 'gelu';
}

/** Why clip skip does nothing on this model (A1111 ignores it there too), or undefined for an SD 1.x model. */
export function clipSkipIgnoredBecause(model: StableDiffusionModel): string | undefined {
  if (model.info.sdxl) return 'an SDXL model';
  if (isOpenClip(model.info.dir)) return 'an SD 2.x model (OpenCLIP text encoder)';
  return undefined;
}

function hiddenStateIndices(part: TextEncoderPart): number[] {
  return [...part.session.outputs.keys()]
    .map((name) => HIDDEN_STATE.exec(name))
    .filter((m) => m !== null)
    .map((m) => Number(m![1]));
}

/** The output that clip skip k reads: transformers' hidden_states[-k] of L layers is hidden_states.{L + 1 - k}. */
function skippedOutput(model: StableDiffusionModel, part: TextEncoderPart, clipSkip: number): string {
  const indices = hiddenStateIndices(part);
  const name = model.info.name;
  if (indices.length === 0) {
    const imported = model.info.imported
      ? 'it was imported by an older version of this app: import its checkpoint or diffusers folder again ("Add model…" or npm run import)'
      : 'import the checkpoint or diffusers folder it was made from with this app ("Add model…" or npm run import), which writes them';
    throw new RequestError(
      `Clip skip ${clipSkip} needs the text encoder's hidden states, and ${name}'s text encoder has none ` +
        `(its outputs: ${[...part.session.outputs.keys()].join(', ')}); ${imported}; or use Clip skip 1`,
    );
  }
  const config = readJson(model.info.dir, 'text_encoder/config.json', 'text_encoder', false);
  const layers =
    config?.num_hidden_layers === undefined ? Math.max(...indices) : configInteger(config, 'num_hidden_layers', 1, 'text_encoder', 1000);
  if (clipSkip > layers + 1) {
    throw new RequestError(`Clip skip ${clipSkip} is more than ${name}'s text encoder has layers (${layers}): use at most ${layers + 1}`);
  }
  const output = `hidden_states.${layers + 1 - clipSkip}`;
  if (!part.session.outputs.has(output)) {
    throw new RequestError(`Clip skip ${clipSkip} reads ${output}, which ${name}'s text encoder does not output`);
  }
  return output;
}

const norms = new WeakMap<ModelInfo, FinalLayerNorm>();

/** The text encoder's final_layer_norm, from its graph's initializers and its config's layer_norm_eps. */
function finalLayerNorm(model: StableDiffusionModel, hidden: number): FinalLayerNorm {
  const known = norms.get(model.info);
  if (known) return known;
  const folder = join(model.info.dir, 'text_encoder');
  const path = join(folder, 'model.onnx');
  if (!existsSync(path)) throw new ModelError('text_encoder', 'model.onnx is missing (needed for its final_layer_norm weights)');
  const initializers = onnx.ModelProto.decode(readFileSync(path)).graph?.initializer ?? [];
  const read = (which: 'weight' | 'bias') => {
    const tensor = initializers.find((t) => t.name === `${NORM}.${which}`);
    if (!tensor) {
      throw new ModelError(
        'text_encoder',
        `has no initializer "${NORM}.${which}", which Clip skip applies to the earlier layer's states ` +
          '(import the model with this app to use Clip skip)',
      );
    }
    const values = floatInitializerValues(tensor as InstanceType<typeof onnx.TensorProto>, folder, 'text_encoder');
    if (values.length !== hidden) throw new ModelError('text_encoder', `${NORM}.${which} has ${values.length} values, not ${hidden}`);
    return values;
  };
  const config = readJson(model.info.dir, 'text_encoder/config.json', 'text_encoder', false);
  const norm = { weight: read('weight'), bias: read('bias'), eps: configNumber(config, 'layer_norm_eps', 1e-5, 'text_encoder') };
  norms.set(model.info, norm);
  return norm;
}

/**
 * The request as this model takes it: on SD 2 and SDXL, clip skip is dropped with a note (so PNGs do not claim it);
 * on SD 1.x a clip skip the text encoder cannot give is refused here, before any work (RequestError).
 */
export function clipSkipFor(model: StableDiffusionModel, request: GenerateRequest): { request: GenerateRequest; notes: string[] } {
  const clipSkip = clipSkipOf(request);
  if (clipSkip === 1) return { request, notes: [] };
  const ignored = clipSkipIgnoredBecause(model);
  if (ignored) {
    const stripped = { ...request };
    delete stripped.clipSkip;
    return {
      request: stripped,
      notes: [`Clip skip ${clipSkip} was ignored: ${model.info.name} is ${ignored}, where A1111 ignores Clip skip too`],
    };
  }
  skippedOutput(model, model.textEncoders[0], clipSkip);
  return { request, notes: [] };
}

/** The text encoders to condition with under clip skip k: the model's own for 1, else SD 1's reading layer k from the end. */
export function clipSkipEncoders(model: StableDiffusionModel, clipSkip: number): TextEncoderPart[] {
  if (clipSkip === 1) return model.textEncoders;
  // Made once per model (an adapted one has its own sessions) and clip skip: it reads the config from disk, and
  // encoding asks for it at every chunk.
  let made = skippedEncoders.get(model);
  if (!made) skippedEncoders.set(model, (made = new Map()));
  const known = made.get(clipSkip);
  if (known) return known;
  if (model.textEncoders.length !== 1) throw new RangeError('clip skip applies to SD 1.x models (one text encoder) only');
  const part = model.textEncoders[0];
  const output = skippedOutput(model, part, clipSkip);
  const type = part.session.outputs.get(output)!.type;
  if (type !== 'float32' && type !== 'float16')
    throw new ModelError('text_encoder', `output "${output}" has type ${type}; float32 or float16 expected`);
  const parts: TextEncoderPart[] = [{ ...part, statesOutput: output, statesFloat: type, finalNorm: finalLayerNorm(model, part.hidden) }];
  made.set(clipSkip, parts);
  return parts;
}

const skippedEncoders = new WeakMap<StableDiffusionModel, Map<number, TextEncoderPart[]>>();

/**
 * Layer norm over each position's `hidden` values, in place, as torch's LayerNorm: biased variance, eps inside the
 * square root; sums in double precision.
 */
export function applyLayerNorm(states: Float32Array, hidden: number, norm: FinalLayerNorm): Float32Array {
  for (let at = 0; at < states.length; at += hidden) {
    let sum = 0;
    for (let h = 0; h < hidden; h++) sum += states[at + h];
    const mean = sum / hidden;
    let squares = 0;
    for (let h = 0; h < hidden; h++) squares += (states[at + h] - mean) ** 2;
    const scale = 1 / Math.sqrt(squares / hidden + norm.eps);
    for (let h = 0; h < hidden; h++) states[at + h] = (states[at + h] - mean) * scale * norm.weight[h] + norm.bias[h];
  }
  return states;
}
