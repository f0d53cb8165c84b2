// The token counter under a prompt field, as A1111 shows it: "80/150", tokens used over the capacity of the
// chunks so far. A warning comes with it where the model will not take the whole prompt, or where the
// emphasis cannot be read.
import { LIMITS } from '../contract/generate.ts';
import type { StableDiffusionModel } from '../model/model.ts';
import { chunkPrompt, promptTokenCount, CHUNK_TOKENS } from './chunks.ts';
import { fixedUnetPositions } from './conditioning.ts';
import { PromptSyntaxError } from './emphasis.ts';
import { parseExtraNetworks } from '../adapters/prompt-tags.ts';
import { adaptersOf } from '../adapters/apply.ts';
import { promptSchedule } from './schedule.ts';
import { promptParts } from './composable.ts';

export interface PromptCount {
  tokens: number;
  max: number;
  /** Only when something is wrong: tokens that will be dropped, or an emphasis error. */
  warning?: string;
}

/**
 * The chunks a request's prompt and negative prompt are each encoded in. A prompt whose emphasis cannot be read
 * counts one chunk: its encoding refuses it, with the reason.
 */
export function promptChunks(
  model: StableDiffusionModel,
  request: { prompt: string; negativePrompt: string; steps?: number },
): { prompt: number; negativePrompt: number } {
  const options = { embeddings: adaptersOf(model)?.embeddingLayout() };
  // Prompt editing: a prompt's scheduled texts are encoded together, at the chunk count of the longest; with AND,
  // each part's texts, and the parts take the longest part's count (conditioning.ts).
  const chunksOf = (typed: string, negative: boolean) =>
    Math.max(
      ...textsToCount(typed, request.steps ?? DEFAULT_STEPS, negative).map((text) => {
        try {
          return chunkPrompt(model.tokenizer, text, options).chunks.length;
        } catch (error) {
          if (error instanceof PromptSyntaxError) return 1;
          throw error;
        }
      }),
    );
  return { prompt: chunksOf(request.prompt, false), negativePrompt: chunksOf(request.negativePrompt, true) };
}

/** A1111's default steps, for a counter asked without them. */
const DEFAULT_STEPS = 20;

/**
 * The texts a typed prompt is encoded as, as A1111's update_token_counter lists them: extra-network tags taken out
 * (they are not tokenized), the prompt split into its AND parts, each without its `:weight` (the negative prompt is
 * not split: AND is plain text there), then each part's schedule (prompt editing, alternation) for the steps.
 */
function textsToCount(typed: string, steps: number, negative: boolean): string[] {
  const text = parseExtraNetworks(typed).prompt;
  const parts = negative ? [text] : promptParts(text).map((part) => part.text);
  return parts.flatMap((part) => promptSchedule(part, steps).map((entry) => entry.text));
}

/**
 * The counter for a typed prompt: A1111 counts each text it is encoded as and shows the one with the most tokens
 * (ui.py update_token_counter); `steps` defaults to its 20.
 */
export function countPrompt(model: StableDiffusionModel, typed: string, steps = DEFAULT_STEPS, negative = false): PromptCount {
  const texts = textsToCount(typed, steps, negative);
  let best: PromptCount | undefined;
  for (const text of texts) {
    const count = countText(model, text);
    if (!best || count.tokens > best.tokens) best = count;
  }
  return best!;
}

function countText(model: StableDiffusionModel, prompt: string): PromptCount {
  let count: { tokens: number; max: number };
  try {
    // An embedding the prompt names takes as many positions as it has vectors, as A1111 counts it.
    count = promptTokenCount(model.tokenizer, prompt, { embeddings: adaptersOf(model)?.embeddingLayout() });
  } catch (error) {
    if (!(error instanceof PromptSyntaxError)) throw error;
    const tokens = model.tokenizer.countTokens(prompt);
    return { tokens, max: Math.ceil(Math.max(tokens, 1) / CHUNK_TOKENS) * CHUNK_TOKENS, warning: error.message };
  }
  const positions = fixedUnetPositions(model);
  const fits = positions === undefined ? Infinity : Math.floor(positions / (CHUNK_TOKENS + 2)) * CHUNK_TOKENS;
  if (count.max > LIMITS.promptChunks * CHUNK_TOKENS) {
    return { ...count, warning: `more than ${LIMITS.promptChunks} chunks of ${CHUNK_TOKENS} tokens: the engine refuses this prompt` };
  }
  if (count.tokens > fits) {
    return { ...count, warning: `this model's UNet takes ${fits} tokens; ${count.tokens - fits} will be dropped` };
  }
  return count;
}
