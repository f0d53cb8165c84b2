// From prompt text to the UNet's text conditioning, as AUTOMATIC1111 does it: each chunk through the text
// encoder on its own, emphasis weights applied to the outputs, the chunks joined along the sequence axis.
import type { EMPHASIS_CHOICES } from '../contract/generate.ts';
import type { TextConditioning } from '../guidance/unet.ts';
import type { ClipTokenizer } from '../tokenizer/clip-tokenizer.ts';
import { chunkPrompt, emptyChunk, type ChunkOptions, type PromptChunk } from './chunks.ts';

/** A1111's "Emphasis mode": Original (weights, mean restored), No norm (weights only), Ignore (no weights). */
export type EmphasisMode = (typeof EMPHASIS_CHOICES)[number];

/** One chunk's ids in, its [positions, hidden] text-encoder states out. */
export type ChunkEncoder = (ids: Int32Array) => Promise<Float32Array>;

export interface PromptEncoding extends TextConditioning {
  /** Chunks joined in `states`: tokens = chunks x positions per chunk. */
  chunks: number;
  /** Prompt tokens in each chunk. */
  tokensPerChunk: number[];
}

/**
 * Applies one chunk's weights to its states, [positions, hidden]. "original": multiply each position by its
 * weight, then scale everything so the mean over all values is what it was before.
 */
export function weightChunkStates(states: Float32Array, weights: Float64Array, hidden: number, mode: EmphasisMode): Float32Array {
  return weightChunkGroup([states], [weights], hidden, mode)[0];
}

/**
 * weightChunkStates over the same chunk of several texts encoded in one call (A1111 encodes a prompt's
 * scheduled texts together): "original" restores the mean over all of them, so one scale serves them all.
 */
export function weightChunkGroup(states: Float32Array[], weights: Float64Array[], hidden: number, mode: EmphasisMode): Float32Array[] {
  for (const [k, s] of states.entries()) {
    if (s.length !== weights[k].length * hidden) {
      throw new RangeError(`chunk states hold ${s.length} values, expected ${weights[k].length} x ${hidden}`);
    }
  }
  if (mode === 'ignore') return states;
  let meanBefore = 0,
    meanAfter = 0,
    values = 0;
  const outs = states.map((s, k) => {
    const w = weights[k];
    const out = new Float32Array(s.length);
    for (let p = 0; p < w.length; p++) {
      for (let h = 0, i = p * hidden; h < hidden; h++, i++) {
        out[i] = s[i] * w[p];
        meanBefore += s[i];
        meanAfter += out[i];
      }
    }
    values += s.length;
    return out;
  });
  if (mode === 'no-norm') return outs;
  meanBefore /= values;
  meanAfter /= values;
  const scale = meanBefore / meanAfter;
  for (const out of outs) for (let i = 0; i < out.length; i++) out[i] *= scale;
  return outs;
}

async function encodeChunks(chunks: PromptChunk[], encoder: ChunkEncoder, hidden: number, mode: EmphasisMode): Promise<Float32Array> {
  const positions = chunks[0].ids.length;
  const states = new Float32Array(chunks.length * positions * hidden);
  for (const [c, chunk] of chunks.entries()) {
    const raw = await encoder(chunk.ids);
    states.set(weightChunkStates(raw, chunk.weights, hidden, mode), c * positions * hidden);
  }
  return states;
}

/** Encodes one prompt: emphasis parsed, chunked, each chunk encoded and weighted, chunks joined. */
export async function encodeWeightedPrompt(
  tokenizer: ClipTokenizer,
  prompt: string,
  mode: EmphasisMode,
  encoder: ChunkEncoder,
  hidden: number,
  options: ChunkOptions = {},
): Promise<PromptEncoding> {
  const chunked = chunkPrompt(tokenizer, prompt, options);
  const states = await encodeChunks(chunked.chunks, encoder, hidden, mode);
  return { states, tokens: states.length / hidden, hidden, chunks: chunked.chunks.length, tokensPerChunk: chunked.tokensPerChunk };
}

/** The encoding of the empty prompt: one chunk, what shorter prompts are padded with. */
export async function encodeEmptyChunk(
  tokenizer: ClipTokenizer,
  encoder: ChunkEncoder,
  hidden: number,
  options: ChunkOptions = {},
): Promise<PromptEncoding> {
  const states = await encodeChunks([emptyChunk(tokenizer, options)], encoder, hidden, 'original');
  return { states, tokens: states.length / hidden, hidden, chunks: 1, tokensPerChunk: [0] };
}

/** SDXL's pooled vector comes from the first chunk: padding and cutting chunks keep it. */
function pooledOf(encoding: PromptEncoding): { pooled?: Float32Array } {
  return encoding.pooled ? { pooled: encoding.pooled } : {};
}

/**
 * `encoding`'s states repeated until they make `chunks` (a multiple of its own). Cross-attention over a context
 * repeated k times is attention over the context itself (each key's softmax weight is split evenly between
 * its k copies), so the prompt and negative prompt can share one batched UNet call at a common length without
 * changing either: what A1111 gets by running the two in separate calls when their lengths differ.
 */
export function repeatToChunks(encoding: PromptEncoding, chunks: number): PromptEncoding {
  if (chunks % encoding.chunks !== 0) throw new RangeError(`${encoding.chunks} chunks do not repeat into ${chunks}`);
  const states = new Float32Array((encoding.states.length / encoding.chunks) * chunks);
  for (let at = 0; at < states.length; at += encoding.states.length) states.set(encoding.states, at);
  // The tokens are the prompt's own once: the copies add none (the counter and the dropped-token notes count them).
  const tokensPerChunk = [...encoding.tokensPerChunk, ...new Array<number>(chunks - encoding.chunks).fill(0)];
  return { states, tokens: states.length / encoding.hidden, hidden: encoding.hidden, chunks, tokensPerChunk, ...pooledOf(encoding) };
}

/**
 * The number of chunks a prompt of `a` chunks and a negative prompt of `b` share in the guided UNet call: their
 * least common multiple, each repeated to it (repeatToChunks), where that is at most `limit`; beyond it, the longer
 * one's count, the shorter padded with empty chunks (padToChunks: A1111's "Pad prompt/negative prompt" setting,
 * which changes the image, and the PNG says so with "Pad conds: True").
 */
export function sharedChunks(a: number, b: number, limit: number): { chunks: number; padded: boolean } {
  const gcd = (x: number, y: number): number => (y === 0 ? x : gcd(y, x % y));
  const lcm = (a / gcd(a, b)) * b;
  return lcm <= limit ? { chunks: lcm, padded: false } : { chunks: Math.max(a, b), padded: true };
}

/** Appends empty chunks until `encoding` has `chunks` of them (A1111 pads the prompt or the negative so). */
export function padToChunks(encoding: PromptEncoding, chunks: number, empty: PromptEncoding): PromptEncoding {
  if (encoding.chunks >= chunks) return encoding;
  const states = new Float32Array((encoding.states.length / encoding.chunks) * chunks);
  states.set(encoding.states);
  for (let c = encoding.chunks; c < chunks; c++) states.set(empty.states, c * empty.states.length);
  const tokensPerChunk = [...encoding.tokensPerChunk, ...new Array<number>(chunks - encoding.chunks).fill(0)];
  return { states, tokens: states.length / encoding.hidden, hidden: encoding.hidden, chunks, tokensPerChunk, ...pooledOf(encoding) };
}

/**
 * For a UNet whose text input has a fixed number of positions (some exports take exactly 77): keeps the first
 * chunks that fit and says how many prompt tokens were dropped. `label` names the prompt in the note.
 */
export function fitToPositions(encoding: PromptEncoding, positions: number, label: string): { encoding: PromptEncoding; note?: string } {
  if (encoding.tokens <= positions) return { encoding };
  const perChunk = encoding.tokens / encoding.chunks;
  const keep = Math.max(1, Math.floor(positions / perChunk));
  if (keep * perChunk !== positions) {
    throw new RangeError(`the UNet takes ${positions} text positions, not a multiple of the text encoder's ${perChunk}`);
  }
  const dropped = encoding.tokensPerChunk.slice(keep).reduce((a, b) => a + b, 0);
  const kept: PromptEncoding = {
    states: encoding.states.slice(0, positions * encoding.hidden),
    tokens: positions,
    hidden: encoding.hidden,
    chunks: keep,
    tokensPerChunk: encoding.tokensPerChunk.slice(0, keep),
    ...pooledOf(encoding),
  };
  const note =
    dropped > 0
      ? `this model's UNet takes ${positions} text positions, so the ${label} was cut after ` +
        `${kept.tokensPerChunk.reduce((a, b) => a + b, 0)} tokens: ${dropped} tokens dropped`
      : undefined;
  return { encoding: kept, note };
}
