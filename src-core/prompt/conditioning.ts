// The prompt and negative prompt of one request as the guided UNet call needs them: encoded with emphasis,
// cut to the UNet's text positions where the export fixes them (with a note saying what was dropped), and
// brought to one number of chunks so that guidance stays one batched call (sharedChunks in encode.ts).
import { LIMITS, RequestError } from '../contract/generate.ts';
import type { TextConditioning } from '../guidance/unet.ts';
import type { StableDiffusionModel } from '../model/model.ts';
import { encodeEmptyChunkOf, encodePrompt, encodePromptGroup, runTextEncoder, type Timings } from '../pipeline/components.ts';
import { PromptSyntaxError } from './emphasis.ts';
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
import { hasScheduling, promptSchedule } from './schedule.ts';
import { promptParts } from './composable.ts';
import { checkHiresParts, composablePartsOf } from './hires-prompt.ts';

export interface PromptConditioning {
  cond: TextConditioning;
  uncond?: TextConditioning;
  /** What the user should know (tokens dropped for a fixed-length UNet). */
  notes: string[];
  /** The shorter of the two was padded with empty chunks (A1111's "Pad conds"), which changes the image. */
  padded: boolean;
  /**
   * Prompt editing or alternation in the prompt or negative prompt: for each pass given, the scheduled texts'
   * conditionings and the step each ends at (cond and uncond above are the first pass's first texts).
   */
  schedules?: PassConditioning[];
}

/** The steps a pass's schedule is made for, as A1111 counts them (pipeline/prompt-steps.ts). */
export interface PassSteps {
  steps: number;
  /** Hires fix's second pass: the first pass's steps, from which its whole-step edits count. */
  hires?: { firstPassSteps: number };
  /** This pass's own prompt and negative prompt (hires fix's hr_prompt, LoRA tags removed); absent: the request's. */
  prompt?: string;
  negativePrompt?: string;
}

export interface PassConditioning {
  cond: TextConditioning[];
  condEnds: number[];
  /** Absent where unguided, as `uncond`. */
  uncond?: TextConditioning[];
  uncondEnds: number[];
  /** A prompt with AND: each part's texts, ends and weight (the first part's texts are `cond` above). */
  parts?: Array<{ cond: TextConditioning[]; condEnds: number[]; weight: number }>;
}

/** Text positions of the UNet's encoder_hidden_states when the export fixes them; undefined when dynamic. */
export function fixedUnetPositions(model: StableDiffusionModel): number | undefined {
  const dim = model.unet.inputs.get('encoder_hidden_states')?.shape[1];
  return typeof dim === 'number' && dim > 0 ? dim : undefined;
}

/** clipSkip: A1111's Clip skip for SD 1.x (model/clip-skip.ts); 1 or absent: the last layer. */
type Prompts = { prompt: string; negativePrompt: string; emphasis: EmphasisMode; guided: boolean; clipSkip?: number };

/**
 * Encodes the request's prompts. `cache` (prompt -> encoding, shared by a grid or sweep) spares the text
 * encoder for prompts seen before; its keys include the emphasis mode and clip skip. `passes`: the steps of each pass, for
 * prompt editing and alternation (without them, or without such syntax, each prompt is one text).
 */
export async function promptConditioning(
  model: StableDiffusionModel,
  prompts: Prompts,
  timings: Timings,
  cache?: Map<string, TextConditioning>,
  passes?: readonly PassSteps[],
): Promise<PromptConditioning> {
  const clipSkip = prompts.clipSkip ?? 1;
  // Clip skip 1 keeps the keys it always had.
  const skipKey = clipSkip === 1 ? '' : `clip skip ${clipSkip}\u0000`;
  const encodeGroup = async (texts: string[], label: string): Promise<PromptEncoding[]> => {
    // One text (a prompt without editing) keeps the key and the encoding it always had.
    const key = `${skipKey}${prompts.emphasis}\u0000${texts.length === 1 ? texts[0] : `\u0001${texts.join('\u0000')}`}`;
    const cached = cache?.get(key);
    if (cached) return texts.length === 1 ? [cached as PromptEncoding] : (cached as GroupEntry).group;
    let encoded: PromptEncoding[];
    try {
      encoded =
        texts.length === 1
          ? [await encodePrompt(model, texts[0], prompts.emphasis, timings, clipSkip)]
          : await encodePromptGroup(model, texts, prompts.emphasis, timings, clipSkip);
    } catch (error) {
      if (error instanceof PromptSyntaxError) throw new RequestError(`${label}: ${error.message}`);
      throw error;
    }
    cache?.set(key, texts.length === 1 ? encoded[0] : groupEntry(encoded));
    return encoded;
  };
  // SDXL (force_zeros_for_empty_prompt, as diffusers and A1111): an empty negative prompt is all zeros, states
  // and pooled vector, as long as the prompt (zero states add nothing to cross-attention, whatever their length).
  // A1111 decides it per call, one prompt's scheduled texts together (sd_models_xl.get_learned_conditioning:
  // `all(x == '' for x in batch)`): a pass whose negative texts are all empty (`[blurry::0]`) is zeros too.
  const zeros = prompts.guided && model.info.sdxl?.forceZerosForEmptyPrompt === true;
  // AND (A1111's composable diffusion): each part is a prompt of its own, scheduled and encoded on its own (A1111's
  // get_learned_conditioning over the parts' texts); a plain prompt is its one part, as before.
  // A single part loses its trailing whitespace and a `:1` (A1111 encodes the part's text, not the prompt).
  const all = promptParts(prompts.prompt);
  const parts = all.length > 1 || all[0].weight !== 1 ? all : undefined;
  const prompt = all[0].text;
  if (parts && !prompts.guided) throw new RangeError('a prompt with AND needs the negative prompt encoding (guided)');
  // A pass with texts of its own (hires fix's prompt) is a pass with its own conditioning, as a scheduled one.
  const ownTexts = passes?.some((pass) => pass.prompt !== undefined || (prompts.guided && pass.negativePrompt !== undefined)) ?? false;
  for (const pass of passes ?? []) if (pass.prompt !== undefined) checkHiresParts(prompts.prompt, pass.prompt);
  const scheduled =
    parts !== undefined ||
    ownTexts ||
    (passes !== undefined && (hasScheduling(prompt) || (prompts.guided && hasScheduling(prompts.negativePrompt))));
  const notes: string[] = [];
  let padded = false;
  const passOf = async (pass: PassSteps | undefined): Promise<PassConditioning> => {
    // checkHiresParts above: a pass's own prompt has as many parts as the prompt (weights may differ).
    const passAll = pass?.prompt !== undefined ? promptParts(pass.prompt) : all;
    const passParts = pass?.prompt !== undefined ? composablePartsOf(pass.prompt) : parts;
    const negativePrompt = pass?.negativePrompt ?? prompts.negativePrompt;
    const partTexts = (passParts ?? passAll).map((part) =>
      pass ? promptSchedule(part.text, pass.steps, pass.hires) : [{ endAt: 0, text: part.text }],
    );
    const uncondTexts = pass ? promptSchedule(negativePrompt, pass.steps, pass.hires) : [{ endAt: 0, text: negativePrompt }];
    const partConds: PromptEncoding[][] = [];
    for (const texts of partTexts)
      partConds.push(
        await encodeGroup(
          texts.map((t) => t.text),
          'prompt',
        ),
      );
    // A1111's stack_conds: a part of fewer chunks takes its last token's vector to the longest part's length.
    const chunks = Math.max(...partConds.map((list) => list[0].chunks));
    const cond = partConds.flatMap((list) => list.map((e) => repeatLastVector(e, chunks)));
    const zeroNegative = zeros && uncondTexts.every((t) => t.text === '');
    const uncond =
      prompts.guided && !zeroNegative
        ? await encodeGroup(
            uncondTexts.map((t) => t.text),
            'negative prompt',
          )
        : undefined;
    const shared = await shareChunks(model, timings, cache, cond, uncond, notes, clipSkip);
    padded ||= shared.padded;
    const zero = zeroNegative ? zeroEncoding(shared.cond[0]) : undefined;
    let at = 0;
    const sharedParts = partTexts.map((texts) => shared.cond.slice(at, (at += texts.length)));
    return {
      cond: sharedParts[0],
      condEnds: partTexts[0].map((t) => t.endAt),
      uncond: zero ? uncondTexts.map(() => zero) : shared.uncond,
      uncondEnds: uncondTexts.map((t) => t.endAt),
      ...(passParts
        ? { parts: passParts.map((part, i) => ({ cond: sharedParts[i], condEnds: partTexts[i].map((t) => t.endAt), weight: part.weight })) }
        : {}),
    };
  };
  if (!scheduled) {
    const only = await passOf(undefined);
    return { cond: only.cond[0], uncond: only.uncond?.[0], notes, padded };
  }
  const schedules: PassConditioning[] = [];
  for (const pass of passes ?? [undefined]) schedules.push(await passOf(pass));
  return { cond: schedules[0].cond[0], uncond: schedules[0].uncond?.[0], notes: [...new Set(notes)], padded, schedules };
}

/** `e` taken to `chunks` chunks by repeating its last token's vector (A1111's stack_conds); `e` itself if as long. */
function repeatLastVector(e: PromptEncoding, chunks: number): PromptEncoding {
  if (e.chunks === chunks) return e;
  const tokens = (e.tokens / e.chunks) * chunks;
  const states = new Float32Array(tokens * e.hidden);
  states.set(e.states);
  const last = e.states.subarray(e.states.length - e.hidden);
  for (let t = e.tokens; t < tokens; t++) states.set(last, t * e.hidden);
  const tokensPerChunk = [...e.tokensPerChunk, ...Array<number>(chunks - e.chunks).fill(0)];
  return { ...e, states, tokens, chunks, tokensPerChunk };
}

/** A cache entry for a group of scheduled texts (the cache holds TextConditioning values). */
interface GroupEntry extends TextConditioning {
  group: PromptEncoding[];
}
const groupEntry = (group: PromptEncoding[]): GroupEntry => ({ ...group[0], group });

/**
 * Cuts each text to the UNet's fixed text positions where the export has them, then brings the prompt's texts
 * and the negative prompt's to one number of chunks (sharedChunks in encode.ts): repeated, or padded past the limit.
 */
async function shareChunks(
  model: StableDiffusionModel,
  timings: Timings,
  cache: Map<string, TextConditioning> | undefined,
  condTexts: PromptEncoding[],
  uncondTexts: PromptEncoding[] | undefined,
  notes: string[],
  clipSkip: number,
): Promise<{ cond: PromptEncoding[]; uncond?: PromptEncoding[]; padded: boolean }> {
  let cond = condTexts,
    uncond = uncondTexts;
  const positions = fixedUnetPositions(model);
  if (positions !== undefined) {
    const fit = (list: PromptEncoding[], label: string) =>
      list.map((encoding) => {
        const fitted = fitToPositions(encoding, positions, label);
        if (fitted.note) notes.push(fitted.note);
        return fitted.encoding;
      });
    cond = fit(cond, 'prompt');
    if (uncond) uncond = fit(uncond, 'negative prompt');
  }
  // The texts of one prompt share a chunk count (encode-group.ts), so the first of each stands for all.
  if (!uncond || uncond[0].chunks === cond[0].chunks) return { cond, uncond, padded: false };
  const counts = [cond[0].chunks, uncond[0].chunks];
  const shared = sharedChunks(counts[0], counts[1], LIMITS.promptChunks);
  if (!shared.padded) {
    return {
      cond: cond.map((c) => repeatToChunks(c, shared.chunks)),
      uncond: uncond.map((u) => repeatToChunks(u, shared.chunks)),
      padded: false,
    };
  }
  const empty = await emptyChunkOf(model, timings, cache, clipSkip);
  notes.push(
    `the prompt (${counts[0]} chunks) and the negative prompt (${counts[1]}) were padded with empty chunks to one ` +
      'length, as A1111\'s "Pad prompt/negative prompt" setting does (their lengths\' common multiple is over ' +
      `${LIMITS.promptChunks} chunks); the PNG says "Pad conds: True"`,
  );
  return {
    cond: cond.map((c) => padToChunks(c, shared.chunks, empty)),
    uncond: uncond.map((u) => padToChunks(u, shared.chunks, empty)),
    padded: true,
  };
}

/** The empty prompt's one chunk, encoded once per cache (and clip skip). */
async function emptyChunkOf(
  model: StableDiffusionModel,
  timings: Timings,
  cache: Map<string, TextConditioning> | undefined,
  clipSkip: number,
): Promise<PromptEncoding> {
  const key = clipSkip === 1 ? '\u0000empty chunk' : `\u0000empty chunk, clip skip ${clipSkip}`;
  const empty =
    (cache?.get(key) as PromptEncoding | undefined) ??
    (model.textEncoders.length > 1
      ? await encodeEmptyChunkOf(model, timings)
      : await encodeEmptyChunk(model.tokenizer, (ids) => runTextEncoder(model, ids, timings, clipSkip), model.info.textHidden, {
          chunkTokens: model.info.tokens - 2,
        }));
  cache?.set(key, empty);
  return empty;
}
