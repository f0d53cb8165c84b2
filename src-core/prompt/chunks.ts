// Long prompts as AUTOMATIC1111 feeds them to CLIP: the weighted pieces of the emphasis parser are tokenized
// one by one and laid into chunks of 75 tokens, each framed by the start and end tokens and padded to 77.
// A chunk closes when full, at a BREAK, and at the end; a chunk that fills up moves the words after its last
// comma (when that comma is among its last 20 tokens) to the next chunk, so a phrase is not cut in two.
import type { ClipTokenizer } from '../tokenizer/clip-tokenizer.ts';
import { isBreakMarker, parseEmphasis, type WeightedPiece } from './emphasis.ts';

/** Prompt tokens per chunk, between the start and end tokens. */
export const CHUNK_TOKENS = 75;
/** A1111's "Prompt word wrap length limit" default (0 turns the comma backtrack off). */
export const COMMA_BACKTRACK = 20;

/** One text-encoder input: ids and the weight of each position (start, end and padding weigh 1). */
export interface PromptChunk {
  ids: Int32Array;
  weights: Float64Array;
}

export interface ChunkedPrompt {
  chunks: PromptChunk[];
  /**
   * A1111's token count: 75 for every chunk closed early (full or at BREAK), plus the tokens of the last one.
   * The UI shows it as "count/capacity".
   */
  tokenCount: number;
  /** Prompt tokens in each chunk (without start, end and padding). */
  tokensPerChunk: number[];
}

export interface ChunkOptions {
  chunkTokens?: number;
  commaBacktrack?: number;
  /** Textual-inversion embeddings the prompt may name (adapters/embedding-tokens.ts): the ids their vectors take. */
  embeddings?: { find(tokens: readonly number[], position: number): { ids: number[]; length: number } | undefined };
}

/** Token ids of a text without start and end tokens. */
function pieceIds(tokenizer: ClipTokenizer, text: string): number[] {
  return tokenizer.encode(text).slice(1, -1);
}

/** The id of ",</w>", the token the comma backtrack looks for. */
function commaId(tokenizer: ClipTokenizer): number | undefined {
  const ids = pieceIds(tokenizer, ',');
  return ids.length === 1 ? ids[0] : undefined;
}

/** Parses emphasis and chunks the prompt. Throws PromptSyntaxError where A1111 raises. */
export function chunkPrompt(tokenizer: ClipTokenizer, prompt: string, options: ChunkOptions = {}): ChunkedPrompt {
  return chunkPieces(tokenizer, parseEmphasis(prompt), options);
}

export function chunkPieces(tokenizer: ClipTokenizer, pieces: WeightedPiece[], options: ChunkOptions = {}): ChunkedPrompt {
  const size = options.chunkTokens ?? CHUNK_TOKENS;
  const backtrack = options.commaBacktrack ?? COMMA_BACKTRACK;
  const comma = commaId(tokenizer);
  const chunks: PromptChunk[] = [];
  const tokensPerChunk: number[] = [];
  let ids: number[] = [];
  let weights: number[] = [];
  let lastComma = -1;
  let tokenCount = 0;

  const close = (isLast: boolean) => {
    tokenCount += isLast ? ids.length : size;
    tokensPerChunk.push(ids.length);
    chunks.push(frameChunk(tokenizer, ids, weights, size));
    ids = [];
    weights = [];
    lastComma = -1;
  };

  for (const piece of pieces) {
    if (isBreakMarker(piece)) {
      close(false);
      continue;
    }
    const weight = piece[1];
    const pieceTokens = pieceIds(tokenizer, piece[0]);
    for (let position = 0; position < pieceTokens.length;) {
      const id = pieceTokens[position];
      if (id === comma) {
        lastComma = ids.length;
      } else if (backtrack !== 0 && ids.length === size && lastComma !== -1 && ids.length - lastComma <= backtrack) {
        // Keep up to the comma here; what follows it starts the next chunk.
        const movedIds = ids.slice(lastComma + 1);
        const movedWeights = weights.slice(lastComma + 1);
        ids = ids.slice(0, lastComma + 1);
        weights = weights.slice(0, lastComma + 1);
        close(false);
        ids = movedIds;
        weights = movedWeights;
      }
      if (ids.length === size) close(false);
      // An embedding's vectors stay in one chunk (A1111 starts the next one when they do not fit).
      const embedding = options.embeddings?.find(pieceTokens, position);
      if (embedding) {
        if (ids.length + embedding.ids.length > size) close(false);
        ids.push(...embedding.ids);
        weights.push(...embedding.ids.map(() => weight));
        position += embedding.length;
        continue;
      }
      ids.push(id);
      weights.push(weight);
      position++;
    }
  }
  if (ids.length > 0 || chunks.length === 0) close(true);
  return { chunks, tokenCount, tokensPerChunk };
}

/**
 * [start, tokens, end padding..., end] with weight 1 outside the tokens. Where the folder's pad token is not
 * the end token (SD 2's OpenCLIP), every position after the first end token becomes the pad token.
 */
function frameChunk(tokenizer: ClipTokenizer, ids: number[], weights: number[], size: number): PromptChunk {
  const length = size + 2;
  const chunkIds = new Int32Array(length).fill(tokenizer.eosId);
  const chunkWeights = new Float64Array(length).fill(1);
  chunkIds[0] = tokenizer.bosId;
  chunkIds.set(ids, 1);
  chunkWeights.set(weights, 1);
  if (tokenizer.padId !== tokenizer.eosId) {
    const firstEnd = chunkIds.indexOf(tokenizer.eosId);
    if (firstEnd !== -1) chunkIds.fill(tokenizer.padId, firstEnd + 1);
  }
  return { ids: chunkIds, weights: chunkWeights };
}

/** The chunk of an empty prompt: what a shorter prompt is padded with. */
export function emptyChunk(tokenizer: ClipTokenizer, options: ChunkOptions = {}): PromptChunk {
  return chunkPieces(tokenizer, [['', 1]], options).chunks[0];
}

/** The counter A1111 shows under a prompt: tokens used and the capacity of the chunks so far ("80/150"). */
export function promptTokenCount(tokenizer: ClipTokenizer, prompt: string, options: ChunkOptions = {}): { tokens: number; max: number } {
  const { tokenCount } = chunkPrompt(tokenizer, prompt, options);
  return { tokens: tokenCount, max: Math.ceil(Math.max(tokenCount, 1) / CHUNK_TOKENS) * CHUNK_TOKENS };
}
