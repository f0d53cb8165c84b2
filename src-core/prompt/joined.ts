// SDXL's prompt encoding, as A1111 runs its two embedders and diffusers its two text encoders: each encoder
// chunks and weights the prompt on its own (with its own tokenizer; the second pads with "!"), and their
// states are joined along the channel axis, position by position. The pooled vector is the second
// encoder's text_embeds of the first chunk, unweighted (A1111 keeps the first chunk's `pooled`).
import type { ClipTokenizer } from '../tokenizer/clip-tokenizer.ts';
import type { ChunkOptions } from './chunks.ts';
import { encodeEmptyChunk, encodeWeightedPrompt, type ChunkEncoder, type EmphasisMode, type PromptEncoding } from './encode.ts';

export interface EncoderRun {
  tokenizer: ClipTokenizer;
  /** Channels of this encoder's states. */
  hidden: number;
  /** One chunk's ids in: its [positions, hidden] states and, for the encoder that has one, its pooled vector. */
  run: (ids: Int32Array) => Promise<{ states: Float32Array; pooled?: Float32Array }>;
}

/** Joins per-encoder encodings of the same prompt along the channel axis. */
export function joinEncodings(encodings: PromptEncoding[], pooled: Float32Array | undefined): PromptEncoding {
  const first = encodings[0];
  for (const e of encodings) {
    if (e.tokens !== first.tokens || e.chunks !== first.chunks) {
      const splits = encodings.map((x) => `${x.chunks} chunks, ${x.tokens} positions`).join(' vs ');
      throw new RangeError(`the text encoders split the prompt differently (${splits}); their tokenizers must share one vocabulary`);
    }
  }
  const hidden = encodings.reduce((sum, e) => sum + e.hidden, 0);
  const states = new Float32Array(first.tokens * hidden);
  let offset = 0;
  for (const e of encodings) {
    for (let t = 0; t < first.tokens; t++) states.set(e.states.subarray(t * e.hidden, (t + 1) * e.hidden), t * hidden + offset);
    offset += e.hidden;
  }
  return {
    states,
    tokens: first.tokens,
    hidden,
    chunks: first.chunks,
    tokensPerChunk: first.tokensPerChunk,
    ...(pooled ? { pooled } : {}),
  };
}

async function encodeEach(
  encoders: EncoderRun[],
  encodeOne: (encoder: EncoderRun, chunkEncoder: ChunkEncoder) => Promise<PromptEncoding>,
): Promise<PromptEncoding> {
  const encodings: PromptEncoding[] = [];
  let pooled: Float32Array | undefined;
  for (const encoder of encoders) {
    // Chunks are encoded in order, so the first pooled vector seen is the first chunk's.
    const chunkEncoder: ChunkEncoder = async (ids) => {
      const out = await encoder.run(ids);
      if (out.pooled && pooled === undefined) pooled = out.pooled;
      return out.states;
    };
    encodings.push(await encodeOne(encoder, chunkEncoder));
  }
  return joinEncodings(encodings, pooled);
}

/** A prompt through every encoder: emphasis and 75-token chunks per encoder, states joined, pooled from the first chunk. */
export function encodeJoinedPrompt(
  encoders: EncoderRun[],
  prompt: string,
  mode: EmphasisMode,
  options: ChunkOptions = {},
): Promise<PromptEncoding> {
  return encodeEach(encoders, (encoder, chunkEncoder) =>
    encodeWeightedPrompt(encoder.tokenizer, prompt, mode, chunkEncoder, encoder.hidden, options),
  );
}

/** The empty prompt's chunk through every encoder: what the shorter of prompt and negative prompt is padded with. */
export function encodeJoinedEmptyChunk(encoders: EncoderRun[], options: ChunkOptions = {}): Promise<PromptEncoding> {
  return encodeEach(encoders, (encoder, chunkEncoder) => encodeEmptyChunk(encoder.tokenizer, chunkEncoder, encoder.hidden, options));
}

/** SDXL's "force zeros for empty prompt": all-zero states and pooled vector shaped like `like`. */
export function zeroEncoding(like: PromptEncoding): PromptEncoding {
  return {
    states: new Float32Array(like.states.length),
    tokens: like.tokens,
    hidden: like.hidden,
    chunks: like.chunks,
    tokensPerChunk: like.tokensPerChunk.map(() => 0),
    ...(like.pooled ? { pooled: new Float32Array(like.pooled.length) } : {}),
  };
}
