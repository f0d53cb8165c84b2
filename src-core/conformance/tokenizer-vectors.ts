// Format "tokenizer-vectors/1": prompts with the ids transformers' CLIPTokenizer gives for them from the SD 1.5
// tokenizer folder: `ids` (bos ... eos, no padding or truncation) and `ids77` (padded with the pad token and
// truncated to 77, as SD 1.x feeds its text encoder). Pass: identical ids in both.
//
// The tokenizer folder is the environment variable TOKENIZER_DIR when set, else the tokenizer/ of the model the
// product ships (models/restart-shapes-64/tokenizer, byte for byte the SD 1.5 tokenizer files of
// ../shared/reference/sd15-tokenizer), so nothing here needs the shared folder at run time.
import { join } from 'node:path';
import { DEFAULT_MODEL_DIR } from '../model/default-model.ts';
import { loadClipTokenizer, type ClipTokenizer } from '../tokenizer/clip-tokenizer.ts';
import type { CaseResult } from './formats.ts';

export interface TokenizerCase {
  id?: string;
  prompt: string;
  ids: number[];
  ids77: number[];
}

export const DEFAULT_TOKENIZER_DIR = join(DEFAULT_MODEL_DIR, 'tokenizer');

export function tokenizerDir(): string {
  return process.env.TOKENIZER_DIR || DEFAULT_TOKENIZER_DIR;
}

/** "" when equal, else where the first difference is, e.g. "at 3 got 320 expected 321 (length 9/9)". */
export function firstMismatch(got: ArrayLike<number>, expected: ArrayLike<number>): string {
  const n = Math.min(got.length, expected.length);
  for (let i = 0; i < n; i++) {
    if (got[i] !== expected[i]) {
      return `at ${i} got ${got[i]} expected ${expected[i]} (length ${got.length}/${expected.length})`;
    }
  }
  if (got.length !== expected.length) {
    const extra = got.length > n ? `got extra ${got[n]}` : `missing ${expected[n]}`;
    return `at ${n} ${extra} (length ${got.length}/${expected.length})`;
  }
  return '';
}

function caseId(c: TokenizerCase, index: number): string {
  if (typeof c.id === 'string' && c.id !== '') return c.id;
  const prompt = typeof c.prompt === 'string' ? c.prompt : String(c.prompt);
  const short = prompt.length > 40 ? prompt.slice(0, 40) + '...' : prompt;
  return `#${index + 1} ${JSON.stringify(short)}`;
}

export function runTokenizerCase(tokenizer: ClipTokenizer, c: TokenizerCase, index: number): CaseResult {
  const id = caseId(c, index);
  try {
    if (typeof c.prompt !== 'string' || !Array.isArray(c.ids) || !Array.isArray(c.ids77)) {
      throw new Error('case needs "prompt" (string), "ids" and "ids77" (arrays)');
    }
    const ids = tokenizer.encode(c.prompt);
    const ids77 = tokenizer.encodePadded(c.prompt, 77);
    const problems: string[] = [];
    const rawMismatch = firstMismatch(ids, c.ids);
    if (rawMismatch) problems.push(`ids ${rawMismatch}`);
    const paddedMismatch = firstMismatch(ids77, c.ids77);
    if (paddedMismatch) problems.push(`ids77 ${paddedMismatch}`);
    return {
      id,
      pass: problems.length === 0,
      detail: problems.length === 0 ? `${ids.length} ids, ids77 equal` : problems.join('; '),
    };
  } catch (error) {
    return { id, pass: false, detail: `error: ${(error as Error).message}` };
  }
}

export function runTokenizerVectors(doc: { cases: TokenizerCase[] }): CaseResult[] {
  const dir = tokenizerDir();
  let tokenizer: ClipTokenizer;
  try {
    tokenizer = loadClipTokenizer(dir);
  } catch (error) {
    const detail = `error: cannot load the tokenizer (${(error as Error).message}); set TOKENIZER_DIR to an SD 1.5 tokenizer folder`;
    return doc.cases.map((c, i) => ({ id: caseId(c, i), pass: false, detail }));
  }
  return doc.cases.map((c, i) => runTokenizerCase(tokenizer, c, i));
}
