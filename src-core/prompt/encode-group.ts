// The texts of one prompt's schedule (prompt editing, alternation) encoded as A1111 encodes them: in one call
// (get_learned_conditioning passes a prompt's scheduled texts to the model together). So every text gets the
// chunk count of the longest (the others take empty chunks, as sd_hijack_clip's forward gives them), and the
// "original" emphasis restores the mean over all the texts' states of a chunk, not over each text's alone.
import type { ClipTokenizer } from '../tokenizer/clip-tokenizer.ts';
import { chunkPrompt, emptyChunk, type ChunkOptions } from './chunks.ts';
import { weightChunkGroup, type EmphasisMode, type PromptEncoding } from './encode.ts';
import { joinEncodings, type EncoderRun } from './joined.ts';

type ChunkRun = (ids: Int32Array) => Promise<{ states: Float32Array; pooled?: Float32Array }>;

/** The texts through one text encoder; each chunk's ids are encoded once (the empty chunk, a shared first chunk). */
export async function encodeWeightedGroup(
  tokenizer: ClipTokenizer,
  texts: readonly string[],
  mode: EmphasisMode,
  run: ChunkRun,
  hidden: number,
  options: ChunkOptions = {},
): Promise<PromptEncoding[]> {
  const chunked = texts.map((text) => chunkPrompt(tokenizer, text, options));
  const count = Math.max(...chunked.map((c) => c.chunks.length));
  const empty = emptyChunk(tokenizer, options);
  const positions = empty.ids.length;
  const encoded = new Map<string, { states: Float32Array; pooled?: Float32Array }>();
  const encode = async (ids: Int32Array) => {
    const key = ids.join(',');
    let out = encoded.get(key);
    if (!out) encoded.set(key, (out = await run(ids)));
    return out;
  };
  const states = texts.map(() => new Float32Array(count * positions * hidden));
  const pooled: Array<Float32Array | undefined> = [];
  for (let c = 0; c < count; c++) {
    const chunks = chunked.map((x) => x.chunks[c] ?? empty);
    const raw = [];
    for (const chunk of chunks) raw.push(await encode(chunk.ids));
    // SDXL's pooled vector is each text's first chunk's, unweighted.
    if (c === 0) pooled.push(...raw.map((r) => r.pooled));
    const weighted = weightChunkGroup(
      raw.map((r) => r.states),
      chunks.map((chunk) => chunk.weights),
      hidden,
      mode,
    );
    for (const [k, w] of weighted.entries()) states[k].set(w, c * positions * hidden);
  }
  return states.map((s, k) => ({
    states: s,
    tokens: s.length / hidden,
    hidden,
    chunks: count,
    tokensPerChunk: Array.from({ length: count }, (_, c) => chunked[k].tokensPerChunk[c] ?? 0),
    ...(pooled[k] ? { pooled: pooled[k] } : {}),
  }));
}

/** SDXL: the texts through every encoder, each encoder's group as above, states joined per text. */
export async function encodeJoinedGroup(
  encoders: EncoderRun[],
  texts: readonly string[],
  mode: EmphasisMode,
  options: ChunkOptions = {},
): Promise<PromptEncoding[]> {
  const perEncoder: PromptEncoding[][] = [];
  for (const encoder of encoders) {
    perEncoder.push(await encodeWeightedGroup(encoder.tokenizer, texts, mode, encoder.run, encoder.hidden, options));
  }
  return texts.map((_, k) => {
    const parts = perEncoder.map((encodings) => encodings[k]);
    return joinEncodings(parts, parts.find((p) => p.pooled)?.pooled);
  });
}
