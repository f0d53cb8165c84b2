// The CLIP tokenizer of Stable Diffusion's text encoders, loaded from a diffusers model folder's tokenizer/
// files (vocab.json, merges.txt, tokenizer_config.json, special_tokens_map.json; no tokenizer.json).
//
// Reproduces transformers' CLIPTokenizer as diffusers loads it (see text-cleanup.ts for which pipeline and
// why): special tokens typed in the prompt are matched first, the rest is normalized and split into words,
// each word goes through byte-level BPE with "</w>" word ends, and the ids are framed by bos ... eos.
// The BPE merging itself is @huggingface/tokenizers' BPE model.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import * as hfTokenizers from '@huggingface/tokenizers';
import { byteLevelEncode, normalizePrompt, splitWords } from './text-cleanup.ts';

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

/** CLIP's text encoders have 77 positions: bos, up to 75 prompt tokens, eos (or padding). */
export const CLIP_MAX_LENGTH = 77;

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

export class TokenizerLoadError extends Error {
  override name = 'TokenizerLoadError';
}

const REQUIRED_FILES = ['vocab.json', 'merges.txt', 'tokenizer_config.json'] as const;
const SPECIAL_TOKENS_MAP = 'special_tokens_map.json';

/** CLIPTokenizer's own defaults, used where neither config file names a token. */
const DEFAULT_SPECIALS = {
  bos_token: '<|startoftext|>',
  eos_token: '<|endoftext|>',
  unk_token: '<|endoftext|>',
  pad_token: '<|endoftext|>',
} as const;
type NamedSpecial = keyof typeof DEFAULT_SPECIALS;
const NAMED_SPECIALS = Object.keys(DEFAULT_SPECIALS) as NamedSpecial[];
/** Other special-token slots a config may fill; they are matched in prompts like the named four. */
const OTHER_SPECIAL_SLOTS = ['sep_token', 'cls_token', 'mask_token'];

/** A token matched in the prompt before any cleanup or BPE (the special tokens and any added tokens). */
interface AddedToken {
  content: string;
  id: number;
  /**
   * Matched in the normalized (lowercased...) text rather than in the raw prompt. The SD 1.5 config marks
   * <|startoftext|> and <|endoftext|> "normalized": true, so a typed "<|EndOfText|>" is the eos token too;
   * tokens given as plain strings (SD 2's pad "!") are matched as typed.
   */
  normalized: boolean;
}
// lstrip/rstrip only decide which whitespace next to a token is dropped; CLIP drops all whitespace anyway,
// so they cannot change the ids. single_word is false in every SD tokenizer config and is not applied.

interface TokenSpec {
  content: string;
  normalized: boolean;
}

/**
 * Loads the tokenizer from `folder`: either a tokenizer folder holding the files, or a diffusers model
 * folder whose tokenizer/ subfolder holds them. Throws TokenizerLoadError with the file and the problem.
 */
export function loadClipTokenizer(folder: string): ClipTokenizer {
  const dir = resolveTokenizerDir(folder);
  const vocab = readVocab(join(dir, 'vocab.json'));
  const merges = readMerges(join(dir, 'merges.txt'));
  const config = readJsonObject(join(dir, 'tokenizer_config.json'));
  const mapPath = join(dir, SPECIAL_TOKENS_MAP);
  // special_tokens_map.json is optional. As in transformers' from_pretrained: a tokenizer_config.json that
  // has "added_tokens_decoder" (saved by transformers >= 4.34) is complete and the map is not consulted;
  // otherwise (older saves such as the SD 1.5 and SD 2 folders) the map's entries override the config's.
  const hasDecoder = config.added_tokens_decoder !== undefined && config.added_tokens_decoder !== null;
  const specialMap = existsSync(mapPath) && !hasDecoder ? readJsonObject(mapPath) : {};

  const named = {} as Record<NamedSpecial, TokenSpec>;
  for (const slot of NAMED_SPECIALS) {
    named[slot] =
      tokenSpec(specialMap[slot], `${SPECIAL_TOKENS_MAP}: ${slot}`) ??
      tokenSpec(config[slot], `tokenizer_config.json: ${slot}`) ??
      { content: DEFAULT_SPECIALS[slot], normalized: false };
  }
  const idOf = (slot: NamedSpecial): number => {
    const { content } = named[slot];
    const id = vocab.get(content);
    if (id === undefined) {
      throw new TokenizerLoadError(`${join(dir, 'vocab.json')}: no entry for the ${slot} ${JSON.stringify(content)}`);
    }
    return id;
  };
  const bosId = idOf('bos_token'), eosId = idOf('eos_token'), unkId = idOf('unk_token'), padId = idOf('pad_token');

  const added = collectAddedTokens(dir, vocab, config, specialMap, named);
  const rawTokens = added.filter((t) => !t.normalized);
  const normalizedTokens = added.filter((t) => t.normalized);
  const maxLength = readMaxLength(config);

  const bpe = new BPE({
    type: 'BPE',
    vocab: Object.fromEntries(vocab),
    merges,
    end_of_word_suffix: '</w>',
    unk_token: named.unk_token.content,
    ignore_merges: false,
  });

  /** Token strings and ids of one prompt, without bos/eos. */
  function run(prompt: string, wantStrings: boolean): { ids: number[]; strings: string[] } {
    if (typeof prompt !== 'string') throw new TypeError(`prompt must be a string, got ${typeof prompt}`);
    const ids: number[] = [];
    const strings: string[] = [];
    const emitAdded = (t: AddedToken) => {
      ids.push(t.id);
      if (wantStrings) strings.push(t.content);
    };
    for (const rawPiece of splitOnAddedTokens(prompt, rawTokens)) {
      if (typeof rawPiece !== 'string') {
        emitAdded(rawPiece);
        continue;
      }
      for (const piece of splitOnAddedTokens(normalizePrompt(rawPiece), normalizedTokens)) {
        if (typeof piece !== 'string') {
          emitAdded(piece);
          continue;
        }
        const words = splitWords(piece).map(byteLevelEncode);
        for (const token of bpe.encode(words)) {
          ids.push(vocab.get(token) ?? unkId);
          if (wantStrings) strings.push(token);
        }
      }
    }
    return { ids, strings };
  }

  const encode = (prompt: string): number[] => [bosId, ...run(prompt, false).ids, eosId];

  return {
    folder: dir,
    maxLength,
    usableTokens: maxLength - 2,
    bosToken: named.bos_token.content,
    eosToken: named.eos_token.content,
    padToken: named.pad_token.content,
    unkToken: named.unk_token.content,
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
    countTokens: (prompt: string): number => run(prompt, false).ids.length,
    tokenize: (prompt: string): string[] => run(prompt, true).strings,
  };
}

function resolveTokenizerDir(folder: string): string {
  if (typeof folder !== 'string' || folder === '') throw new TokenizerLoadError('tokenizer folder path is empty');
  if (!existsSync(folder)) throw new TokenizerLoadError(`tokenizer folder not found: ${folder}`);
  if (!statSync(folder).isDirectory()) throw new TokenizerLoadError(`not a folder: ${folder}`);
  const sub = join(folder, 'tokenizer');
  const dir = !existsSync(join(folder, 'vocab.json')) && existsSync(join(sub, 'vocab.json')) ? sub : folder;
  const missing = REQUIRED_FILES.filter((name) => !existsSync(join(dir, name)));
  if (missing.length > 0) {
    throw new TokenizerLoadError(
      `${dir}: missing ${missing.join(', ')} (a CLIP tokenizer folder needs ${REQUIRED_FILES.join(', ')}` +
        ` and usually ${SPECIAL_TOKENS_MAP})`,
    );
  }
  return dir;
}

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new TokenizerLoadError(`cannot read ${path}: ${(error as Error).message}`);
  }
}

function readJsonObject(path: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(readText(path));
  } catch (error) {
    if (error instanceof TokenizerLoadError) throw error;
    throw new TokenizerLoadError(`${path} is not valid JSON: ${(error as Error).message}`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new TokenizerLoadError(`${path}: expected a JSON object`);
  }
  return value as Record<string, unknown>;
}

function readVocab(path: string): Map<string, number> {
  const json = readJsonObject(path);
  const vocab = new Map<string, number>();
  for (const [token, id] of Object.entries(json)) {
    if (!Number.isInteger(id) || (id as number) < 0) {
      throw new TokenizerLoadError(`${path}: the id of ${JSON.stringify(token)} is ${JSON.stringify(id)}, not an integer >= 0`);
    }
    vocab.set(token, id as number);
  }
  if (vocab.size === 0) throw new TokenizerLoadError(`${path}: the vocabulary is empty`);
  return vocab;
}

/**
 * merges.txt: an optional "#version" header line, then one merge per line, two symbols separated by a space,
 * highest priority first. Any other line (one part, three parts, blank in the middle) is an error.
 */
function readMerges(path: string): [string, string][] {
  const lines = readText(path).replace(/^\uFEFF/, '').split(/\r?\n/);
  while (lines.length > 0 && lines[lines.length - 1].trim() === '') lines.pop();
  const merges: [string, string][] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (i === 0 && line.startsWith('#version')) continue;
    const parts = line.split(' ');
    if (parts.length !== 2 || parts[0] === '' || parts[1] === '') {
      throw new TokenizerLoadError(
        `${path}: broken merges file, line ${i + 1} is ${JSON.stringify(line.length > 60 ? line.slice(0, 60) + '...' : line)}` +
          ' (expected two symbols separated by one space)',
      );
    }
    merges.push([parts[0], parts[1]]);
  }
  if (merges.length === 0) throw new TokenizerLoadError(`${path}: no merges`);
  return merges;
}

/** A special-token entry: a string, or an object with "content" (AddedToken form); null/absent gives undefined. */
function tokenSpec(value: unknown, where: string): TokenSpec | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return { content: value, normalized: false };
  if (typeof value === 'object' && !Array.isArray(value) && typeof (value as { content?: unknown }).content === 'string') {
    const v = value as { content: string; normalized?: unknown; special?: unknown };
    // AddedToken's default: normalized = !special; special-token slots are special.
    const normalized = typeof v.normalized === 'boolean' ? v.normalized : v.special === false;
    return { content: v.content, normalized };
  }
  throw new TokenizerLoadError(`${where}: expected a string or an object with a "content" string, got ${JSON.stringify(value)}`);
}

/** Every token matched whole in prompts: the special tokens of both files plus tokenizer_config's added_tokens_decoder. */
function collectAddedTokens(
  dir: string,
  vocab: Map<string, number>,
  config: Record<string, unknown>,
  specialMap: Record<string, unknown>,
  named: Record<NamedSpecial, TokenSpec>,
): AddedToken[] {
  const byContent = new Map<string, AddedToken>();
  // The first registration of a content wins, as in the tokenizers library (bos, eos, unk, pad order).
  const add = (spec: TokenSpec, id: number | undefined, where: string) => {
    if (spec.content === '' || byContent.has(spec.content)) return;
    const resolved = id ?? vocab.get(spec.content);
    if (resolved === undefined) {
      throw new TokenizerLoadError(`${join(dir, 'vocab.json')}: no entry for ${where} ${JSON.stringify(spec.content)}`);
    }
    byContent.set(spec.content, { content: spec.content, id: resolved, normalized: spec.normalized });
  };
  const decoder = config.added_tokens_decoder;
  if (decoder !== undefined && decoder !== null) {
    if (typeof decoder !== 'object' || Array.isArray(decoder)) {
      throw new TokenizerLoadError(`${join(dir, 'tokenizer_config.json')}: added_tokens_decoder must be an object`);
    }
    for (const [key, value] of Object.entries(decoder)) {
      const id = Number(key);
      const where = `tokenizer_config.json: added_tokens_decoder[${key}]`;
      if (!Number.isInteger(id) || id < 0) throw new TokenizerLoadError(`${where}: the key is not a token id`);
      const spec = tokenSpec(value, where);
      if (spec) add(spec, id, 'added token');
    }
  }
  for (const slot of NAMED_SPECIALS) add(named[slot], undefined, `the ${slot}`);
  for (const slot of OTHER_SPECIAL_SLOTS) {
    const spec = tokenSpec(specialMap[slot], `${SPECIAL_TOKENS_MAP}: ${slot}`) ?? tokenSpec(config[slot], `tokenizer_config.json: ${slot}`);
    if (spec) add(spec, undefined, `the ${slot}`);
  }
  for (const source of [specialMap, config]) {
    const list = source.additional_special_tokens;
    if (list === undefined || list === null) continue;
    if (!Array.isArray(list)) throw new TokenizerLoadError(`additional_special_tokens must be a list, got ${JSON.stringify(list)}`);
    for (const item of list) {
      const spec = tokenSpec(item, 'additional_special_tokens');
      if (spec) add(spec, undefined, 'additional special token');
    }
  }
  return [...byContent.values()];
}

function readMaxLength(config: Record<string, unknown>): number {
  const value = config.model_max_length;
  // A folder saved without the field (or with transformers' "unset" sentinel, about 1e30) gets CLIP's 77.
  if (typeof value === 'number' && Number.isInteger(value) && value >= 2 && value <= 1_000_000) return value;
  return CLIP_MAX_LENGTH;
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
  let start = 0, i = 0;
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
