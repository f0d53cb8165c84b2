// The prompt and negative prompt of one request as the guided UNet call needs them: encoded with emphasis,
// cut to the UNet's text positions where the export fixes them (with a note saying what was dropped), and
// brought to one number of chunks so that guidance stays one batched call (sharedChunks in encode.ts).
import { LIMITS, RequestError } from '../contract/generate.ts';
import type { TextConditioning } from '../guidance/unet.ts';
import type { StableDiffusionModel } from '../model/model.ts';
import { encodeEmptyChunkOf, encodePrompt, runTextEncoder, type Timings } from '../pipeline/components.ts';
import { parseEmphasis, PromptSyntaxError } from './emphasis.ts';
import {
  encodeEmptyChunk,
  fitToPositions,
  padToChunks,
  repeatToChunks,
  sharedChunks,
  type EmphasisMode,
  type PromptEncoding,
} from './encode.ts';
import { zeroEncoding } from './joined.ts';

export interface PromptConditioning {
  cond: TextConditioning;
  uncond?: TextConditioning;
  /** What the user should know (tokens dropped for a fixed-length UNet). */
  notes: string[];
  /** The shorter of the two was padded with empty chunks (A1111's "Pad conds"), which changes the image. */
  padded: boolean;
}

/** Text positions of the UNet's encoder_hidden_states when the export fixes them; undefined when dynamic. */
export function fixedUnetPositions(model: StableDiffusionModel): number | undefined {
  const dim = model.unet.inputs.get('encoder_hidden_states')?.shape[1];
  return typeof dim === 'number' && dim > 0 ? dim : undefined;
}

/**
 * Encodes the request's prompts. `cache` (prompt -> encoding, shared by a grid or sweep) spares the text
 * encoder for prompts seen before; its keys include the emphasis mode.
 */
export async function promptConditioning(
  model: StableDiffusionModel,
  prompts: { prompt: string; negativePrompt: string; emphasis: EmphasisMode; guided: boolean },
  timings: Timings,
  cache?: Map<string, TextConditioning>,
): Promise<PromptConditioning> {
  const encode = async (text: string, label: string): Promise<PromptEncoding> => {
    const key = `${prompts.emphasis}\u0000${text}`;
    const cached = cache?.get(key);
    if (cached) return cached as PromptEncoding;
    let encoded: PromptEncoding;
    try {
      encoded = await encodePrompt(model, text, prompts.emphasis, timings);
    } catch (error) {
      if (error instanceof PromptSyntaxError) throw new RequestError(`${label}: ${error.message}`);
      throw error;
    }
    cache?.set(key, encoded);
    return encoded;
  };
  let cond = await encode(prompts.prompt, 'prompt');
  // SDXL (force_zeros_for_empty_prompt, as diffusers and A1111): an empty negative prompt is all zeros, states
  // and pooled vector, as long as the prompt (zero states add nothing to cross-attention, whatever their length).
  const zeroNegative = prompts.guided && prompts.negativePrompt === '' && model.info.sdxl?.forceZerosForEmptyPrompt === true;
  let uncond = prompts.guided && !zeroNegative ? await encode(prompts.negativePrompt, 'negative prompt') : undefined;
  const notes: string[] = [];
  const positions = fixedUnetPositions(model);
  if (positions !== undefined) {
    const fitted = fitToPositions(cond, positions, 'prompt');
    cond = fitted.encoding;
    if (fitted.note) notes.push(fitted.note);
    if (uncond) {
      const fittedUncond = fitToPositions(uncond, positions, 'negative prompt');
      uncond = fittedUncond.encoding;
      if (fittedUncond.note) notes.push(fittedUncond.note);
    }
  }
  let padded = false;
  if (uncond && uncond.chunks !== cond.chunks) {
    const counts = [cond.chunks, uncond.chunks];
    const shared = sharedChunks(cond.chunks, uncond.chunks, LIMITS.promptChunks);
    padded = shared.padded;
    if (padded) {
      const empty = await emptyChunkOf(model, timings, cache);
      cond = padToChunks(cond, shared.chunks, empty);
      uncond = padToChunks(uncond, shared.chunks, empty);
      notes.push(
        `the prompt (${counts[0]} chunks) and the negative prompt (${counts[1]}) were padded with empty chunks to one ` +
          'length, as A1111\'s "Pad prompt/negative prompt" setting does (their lengths\' common multiple is over ' +
          `${LIMITS.promptChunks} chunks); the PNG says "Pad conds: True"`,
      );
    } else {
      cond = repeatToChunks(cond, shared.chunks);
      uncond = repeatToChunks(uncond, shared.chunks);
    }
  }
  if (zeroNegative) uncond = zeroEncoding(cond);
  return { cond, uncond, notes, padded };
}

/** The empty prompt's one chunk, encoded once per cache. */
async function emptyChunkOf(model: StableDiffusionModel, timings: Timings, cache?: Map<string, TextConditioning>): Promise<PromptEncoding> {
  const key = '\u0000empty chunk';
  const empty =
    (cache?.get(key) as PromptEncoding | undefined) ??
    (model.textEncoders.length > 1
      ? await encodeEmptyChunkOf(model, timings)
      : await encodeEmptyChunk(model.tokenizer, (ids) => runTextEncoder(model, ids, timings), model.info.textHidden, {
          chunkTokens: model.info.tokens - 2,
        }));
  cache?.set(key, empty);
  return empty;
}

/** Refuses a prompt A1111 would refuse, before a job is queued. */
export function checkPromptSyntax(prompts: { prompt: string; negativePrompt: string }): void {
  for (const [label, text] of [
    ['prompt', prompts.prompt],
    ['negative prompt', prompts.negativePrompt],
  ] as const) {
    try {
      parseEmphasis(text);
    } catch (error) {
      if (error instanceof PromptSyntaxError) throw new RequestError(`${label}: ${error.message}`);
      throw error;
    }
  }
}
