// Where a prompt names an embedding, as A1111 finds it (modules/textual_inversion, sd_hijack_clip.py): each
// embedding's name is tokenized, and a prompt piece's tokens are searched for those token sequences, longest name
// first among those that start with the same token. A match takes as many positions as the embedding has vectors;
// here those positions get ids past the end of the vocabulary, whose rows the adapted text encoder holds.
import type { StableDiffusionModel } from '../model/model.ts';
import type { ClipTokenizer } from '../tokenizer/clip-tokenizer.ts';

/** What the chunker needs: the embedding at a token position, and the ids its vectors take. */
export interface EmbeddingMatcher {
  find(tokens: readonly number[], position: number): { name: string; ids: number[]; length: number } | undefined;
  /** Names matched so far (for "TI hashes" and to know which rows the text encoder needs). */
  readonly used: Set<string>;
}

export interface EmbeddingEntry {
  name: string;
  /** Vectors (token positions) it takes. */
  count: number;
}

/**
 * Matches the given embeddings' names. `firstId` assigns ids: embedding k's vectors read rows firstId + offset_k
 * onwards, in the order given; without it every vector reads id 0 (only the layout is wanted).
 */
export function embeddingMatcher(tokenizer: ClipTokenizer, embeddings: EmbeddingEntry[], firstId?: number): EmbeddingMatcher {
  const byFirst = new Map<number, Array<{ tokens: number[]; name: string; ids: number[] }>>();
  let next = firstId ?? 0;
  for (const embedding of embeddings) {
    const tokens = tokenizer.encode(embedding.name).slice(1, -1);
    const ids = Array.from({ length: embedding.count }, (_, i) => (firstId === undefined ? 0 : next + i));
    next += embedding.count;
    if (tokens.length === 0) continue;
    const list = byFirst.get(tokens[0]) ?? [];
    list.push({ tokens, name: embedding.name, ids });
    // Longest first, as A1111 sorts them (a stable sort keeps the folder order among equal lengths).
    list.sort((a, b) => b.tokens.length - a.tokens.length);
    byFirst.set(tokens[0], list);
  }
  const used = new Set<string>();
  return {
    used,
    find(tokens, position) {
      for (const candidate of byFirst.get(tokens[position]) ?? []) {
        if (candidate.tokens.every((t, i) => tokens[position + i] === t)) {
          used.add(candidate.name);
          return { name: candidate.name, ids: candidate.ids, length: candidate.tokens.length };
        }
      }
      return undefined;
    },
  };
}

/** The embeddings each adapted model's prompts can name (set when the model is adapted). */
const chunkers = new WeakMap<StableDiffusionModel, EmbeddingMatcher>();

export function setEmbeddingsOf(model: StableDiffusionModel, matcher: EmbeddingMatcher): void {
  chunkers.set(model, matcher);
}

/** The embeddings a model's prompts can name, with the ids of their rows; undefined for a model without any. */
export function embeddingsFor(model: StableDiffusionModel): EmbeddingMatcher | undefined {
  return chunkers.get(model);
}
