// Reading and validating a CLIP tokenizer folder's files (vocab.json, merges.txt, tokenizer_config.json and the
// optional special_tokens_map.json): which folder, the vocabulary, the merges, the special tokens and their ids,
// the tokens matched whole in prompts, and the model length. Encoding with them is clip-tokenizer.ts.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { readJsonObjectFile } from '../model/configs.ts';

/** CLIP's text encoders have 77 positions: bos, up to 75 prompt tokens, eos (or padding). */
export const CLIP_MAX_LENGTH = 77;

export class TokenizerLoadError extends Error {
  override name = 'TokenizerLoadError';
}

export const REQUIRED_FILES = ['vocab.json', 'merges.txt', 'tokenizer_config.json'] as const;
const SPECIAL_TOKENS_MAP = 'special_tokens_map.json';

/** CLIPTokenizer's own defaults, used where neither config file names a token. */
const DEFAULT_SPECIALS = {
  bos_token: '<|startoftext|>',
  eos_token: '<|endoftext|>',
  unk_token: '<|endoftext|>',
  pad_token: '<|endoftext|>',
} as const;
export type NamedSpecial = keyof typeof DEFAULT_SPECIALS;
const NAMED_SPECIALS = Object.keys(DEFAULT_SPECIALS) as NamedSpecial[];
/** Other special-token slots a config may fill; they are matched in prompts like the named four. */
const OTHER_SPECIAL_SLOTS = ['sep_token', 'cls_token', 'mask_token'];

/** A token matched in the prompt before any cleanup or BPE (the special tokens and any added tokens). */
export interface AddedToken {
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

export interface TokenSpec {
  content: string;
  normalized: boolean;
}

/** A named special token as the folder defines it, with its vocabulary id. */
export interface SpecialToken extends TokenSpec {
  id: number;
}

/** Everything the encoder needs from a tokenizer folder, read and checked. */
export interface TokenizerFiles {
  /** The folder holding the files: the one given, or its tokenizer/ subfolder. */
  dir: string;
  vocab: Map<string, number>;
  /** Highest priority first. */
  merges: [string, string][];
  /** bos, eos, unk and pad: from special_tokens_map.json, else tokenizer_config.json, else CLIPTokenizer's defaults. */
  specials: Record<NamedSpecial, SpecialToken>;
  /** Tokens matched whole in prompts before any cleanup or BPE (the special tokens and any added tokens). */
  added: AddedToken[];
  /** model_max_length of tokenizer_config.json, else 77. */
  maxLength: number;
}

/**
 * Reads the tokenizer files of `folder`: either a tokenizer folder holding the files, or a diffusers model
 * folder whose tokenizer/ subfolder holds them. Throws TokenizerLoadError with the file and the problem.
 */
export function readTokenizerFolder(folder: string): TokenizerFiles {
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
    named[slot] = tokenSpec(specialMap[slot], `${SPECIAL_TOKENS_MAP}: ${slot}`) ??
      tokenSpec(config[slot], `tokenizer_config.json: ${slot}`) ?? { content: DEFAULT_SPECIALS[slot], normalized: false };
  }
  const specials = {} as Record<NamedSpecial, SpecialToken>;
  for (const slot of NAMED_SPECIALS) {
    const id = vocab.get(named[slot].content);
    if (id === undefined) {
      throw new TokenizerLoadError(`${join(dir, 'vocab.json')}: no entry for the ${slot} ${JSON.stringify(named[slot].content)}`);
    }
    specials[slot] = { ...named[slot], id };
  }

  const added = collectAddedTokens(dir, vocab, config, specialMap, named);
  return { dir, vocab, merges, specials, added, maxLength: readMaxLength(config) };
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
  return readJsonObjectFile(path, (problem, cause) => {
    if (problem === 'unreadable') return new TokenizerLoadError(`cannot read ${path}: ${cause!.message}`);
    if (problem === 'syntax') return new TokenizerLoadError(`${path} is not valid JSON: ${cause!.message}`);
    return new TokenizerLoadError(`${path}: expected a JSON object`);
  });
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
  const lines = readText(path)
    .replace(/^\uFEFF/, '')
    .split(/\r?\n/);
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
