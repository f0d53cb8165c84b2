// The CLIP tokenizer of Stable Diffusion's text encoders, loaded from a diffusers model folder's tokenizer/
// files (vocab.json, merges.txt, tokenizer_config.json, special_tokens_map.json; no tokenizer.json), which
// tokenizer-files.ts reads and checks; this file encodes prompts with them.
//
// Reproduces transformers' CLIPTokenizer as diffusers loads it (see text-cleanup.ts for which pipeline and
// why): special tokens typed in the prompt are matched first, the rest is normalized and split into words,
// each word goes through byte-level BPE with "</w>" word ends, and the ids are framed by bos ... eos.
// The BPE merging itself is @huggingface/tokenizers' BPE model.
import * as hfTokenizers from '@huggingface/tokenizers';
import { byteLevelEncode, normalizePrompt, splitWords } from './text-cleanup.ts';
import { readTokenizerFolder, type AddedToken } from './tokenizer-files.ts';

export { CLIP_MAX_LENGTH, TokenizerLoadError } from './tokenizer-files.ts';

/**
 * The part of @huggingface/tokenizers' BPE model used here. Its bundled .d.ts re-exports with extensionless
 * relative paths, which TypeScript's NodeNext resolution cannot follow, so the class is typed locally.
 */
interface BpeModel {
  /** Byte-level words in, vocabulary token strings out (unknown pieces become the unk token). */
  encode(words: string[]): string[];
}
interface BpeModelConfig {
  type: 'BPE';
  vocab: Record<string, number>;
  merges: [string, string][];
  end_of_word_suffix: string;
  unk_token: string;
  ignore_merges: boolean;
}
const { BPE } = hfTokenizers as unknown as { BPE: new (config: BpeModelConfig) => BpeModel };

export interface ClipTokenizer {
  /** The folder the four files were read from. */
  readonly folder: string;
  /** model_max_length of tokenizer_config.json (77 for every SD text encoder). */
  readonly maxLength: number;
  /** Prompt tokens that fit between bos and eos: maxLength - 2 (75). */
  readonly usableTokens: number;
  readonly bosToken: string;
  readonly eosToken: string;
  readonly padToken: string;
  readonly unkToken: string;
  readonly bosId: number;
  readonly eosId: number;
  /** 49407 (<|endoftext|>) for SD 1.x; 0 ("!") for SD 2.x and SDXL's second encoder. */
  readonly padId: number;
  readonly unkId: number;
  /** Token ids without truncation or padding: [bos, ...prompt tokens, eos]. */
  encode(prompt: string): number[];
  /**
   * Exactly `length` ids as SD feeds the text encoder: truncated to [bos, first length-2 tokens, eos], or
   * [bos, ...tokens, eos] followed by the pad id.
   */
  encodePadded(prompt: string, length?: number): Int32Array;
  /** Prompt tokens, without bos and eos, of the plain text (the UI counter reads emphasis and chunks: prompt/chunks.ts). */
  countTokens(prompt: string): number;
  /** The token strings of the prompt, without bos and eos (for display and debugging). */
  tokenize(prompt: string): string[];
}

/**
 * Loads the tokenizer from `folder`: either a tokenizer folder holding the files, or a diffusers model
 * folder whose tokenizer/ subfolder holds them. Throws TokenizerLoadError with the file and the problem.
 */
export function loadClipTokenizer(folder: string): ClipTokenizer {
  const { dir, vocab, merges, specials, added, maxLength } = readTokenizerFolder(folder);
  const bosId = specials.bos_token.id,
    eosId = specials.eos_token.id,
    unkId = specials.unk_token.id,
    padId = specials.pad_token.id;
  const rawTokens = added.filter((t) => !t.normalized);
  const normalizedTokens = added.filter((t) => t.normalized);

  const bpe = new BPE({
    type: 'BPE',
    vocab: Object.fromEntries(vocab),
    merges,
    end_of_word_suffix: '</w>',
    unk_token: specials.unk_token.content,
    ignore_merges: false,
  });

  /** Calls `emit` with the id and the token string of each token of one prompt, in order, without bos/eos. */
  function eachToken(prompt: string, emit: (id: number, token: string) => void): void {
    if (typeof prompt !== 'string') throw new TypeError(`prompt must be a string, got ${typeof prompt}`);
    for (const rawPiece of splitOnAddedTokens(prompt, rawTokens)) {
      if (typeof rawPiece !== 'string') {
        emit(rawPiece.id, rawPiece.content);
        continue;
      }
      for (const piece of splitOnAddedTokens(normalizePrompt(rawPiece), normalizedTokens)) {
        if (typeof piece !== 'string') {
          emit(piece.id, piece.content);
          continue;
        }
        const words = splitWords(piece).map(byteLevelEncode);
        for (const token of bpe.encode(words)) emit(vocab.get(token) ?? unkId, token);
      }
    }
  }

  const encode = (prompt: string): number[] => {
    const ids = [bosId];
    eachToken(prompt, (id) => ids.push(id));
    ids.push(eosId);
    return ids;
  };

  return {
    folder: dir,
    maxLength,
    usableTokens: maxLength - 2,
    bosToken: specials.bos_token.content,
    eosToken: specials.eos_token.content,
    padToken: specials.pad_token.content,
    unkToken: specials.unk_token.content,
    bosId,
    eosId,
    padId,
    unkId,
    encode,
    encodePadded(prompt: string, length = maxLength): Int32Array {
      if (!Number.isInteger(length) || length < 2) {
        throw new RangeError(`padded length must be an integer >= 2 (room for bos and eos), got ${length}`);
      }
      const ids = encode(prompt);
      const out = new Int32Array(length).fill(padId);
      if (ids.length > length) {
        out.set(ids.slice(0, length - 1));
        out[length - 1] = eosId;
      } else {
        out.set(ids);
      }
      return out;
    },
    countTokens(prompt: string): number {
      let count = 0;
      eachToken(prompt, () => count++);
      return count;
    },
    tokenize(prompt: string): string[] {
      const tokens: string[] = [];
      eachToken(prompt, (_id, token) => tokens.push(token));
      return tokens;
    },
  };
}

/**
 * Cuts text around added tokens: at each position the leftmost match wins, and among matches starting
 * there the longest. Returns the text pieces (never empty) and the matched tokens, in order.
 */
function splitOnAddedTokens(text: string, tokens: AddedToken[]): Array<string | AddedToken> {
  if (tokens.length === 0 || text === '') return text === '' ? [] : [text];
  const present = tokens.filter((t) => text.includes(t.content));
  if (present.length === 0) return [text];
  present.sort((a, b) => b.content.length - a.content.length);
  const out: Array<string | AddedToken> = [];
  let start = 0,
    i = 0;
  while (i < text.length) {
    const hit = present.find((t) => text.startsWith(t.content, i));
    if (!hit) {
      i++;
      continue;
    }
    if (i > start) out.push(text.slice(start, i));
    out.push(hit);
    i += hit.content.length;
    start = i;
  }
  if (start < text.length) out.push(text.slice(start));
  return out;
}
