// Format "prompt-attention-vectors" version 1: prompts and the (text, weight) pieces AUTOMATIC1111's emphasis
// parser returns for them. Pass: the same number of pieces, identical text in each, and every weight within
// the file's tolerance.
import { parseEmphasis } from '../prompt/emphasis.ts';
import type { CaseResult } from './formats.ts';

export interface PromptAttentionCase {
  id?: string;
  prompt: string;
  expected: Array<[string, number]>;
}

const DEFAULT_TOLERANCE = 1e-9;

function caseId(c: PromptAttentionCase, index: number): string {
  if (typeof c.id === 'string' && c.id !== '') return c.id;
  const prompt = typeof c.prompt === 'string' ? c.prompt : String(c.prompt);
  const short = prompt.length > 40 ? prompt.slice(0, 40) + '...' : prompt;
  return `#${index + 1} ${JSON.stringify(short)}`;
}

/** "" when the pieces match, else the first difference in words. */
export function comparePieces(got: Array<[string, number]>, expected: Array<[string, number]>, tolerance: number): string {
  const n = Math.min(got.length, expected.length);
  for (let i = 0; i < n; i++) {
    if (got[i][0] !== expected[i][0]) return `piece ${i}: text ${JSON.stringify(got[i][0])}, expected ${JSON.stringify(expected[i][0])}`;
    if (!(Math.abs(got[i][1] - expected[i][1]) <= tolerance))
      return `piece ${i} ${JSON.stringify(got[i][0])}: weight ${got[i][1]}, expected ${expected[i][1]}`;
  }
  if (got.length !== expected.length) return `${got.length} pieces, expected ${expected.length}`;
  return '';
}

export function runPromptAttentionCase(c: PromptAttentionCase, index: number, tolerance = DEFAULT_TOLERANCE): CaseResult {
  const id = caseId(c, index);
  try {
    if (typeof c.prompt !== 'string' || !Array.isArray(c.expected)) throw new Error('case needs "prompt" (string) and "expected" (array)');
    const got = parseEmphasis(c.prompt);
    const problem = comparePieces(got, c.expected, tolerance);
    return { id, pass: problem === '', detail: problem || `${got.length} pieces equal` };
  } catch (error) {
    return { id, pass: false, detail: `error: ${(error as Error).message}` };
  }
}

export function runPromptAttentionVectors(doc: { tolerance?: number; cases: PromptAttentionCase[] }): CaseResult[] {
  const tolerance = typeof doc.tolerance === 'number' && doc.tolerance >= 0 ? doc.tolerance : DEFAULT_TOLERANCE;
  return doc.cases.map((c, i) => runPromptAttentionCase(c, i, tolerance));
}
