// The numbers of a safetensors header's shapes and data_offsets, as they are written. The reference reader (Hugging
// Face's safetensors, Rust) takes them as usize through serde_json, which refuses any number written as a float:
// 1.0, 1e3 and -0 are floats to it, where JSON.parse makes whole numbers of them silently. So each one's text is
// checked: digits only, and at most 2^53 - 1, beyond which this reader's numbers lose precision.
import { eachMember, keyIs, keyText, skipSpace, valueEnd } from './safetensors-repeats.ts';

/** A shape or data_offsets entry the reference would refuse, with the text of its list as written. */
export interface LiteralIssue {
  readonly tensor: string;
  readonly field: 'shape' | 'data_offsets';
  readonly written: string;
  readonly problem: string;
}

const FIELDS = ['shape', 'data_offsets'] as const;
const DIGITS = /^(?:0|[1-9]\d*)$/;
const MAX_SHOWN = 60;

const shown = (text: string) => (text.length > MAX_SHOWN ? `${text.slice(0, MAX_SHOWN)}...` : text);

/** Why one list entry, as written, is not a size the reference reads; undefined when it is one. */
function literalProblem(literal: string): string | undefined {
  if (DIGITS.test(literal))
    return BigInt(literal) > BigInt(Number.MAX_SAFE_INTEGER) ? `${literal} is more than 2^53 - 1, the most this app can handle` : undefined;
  if (!/^-?\d/.test(literal)) return `${shown(literal)} is not a number`;
  if (Number(literal) < 0) return `${literal} is negative`;
  return `${literal} is not written as a whole number (digits only: the safetensors library refuses 1.0, 1e3 or -0 there)`;
}

/** The common case, checked without slicing: at most 15 digits (JSON has no leading zeros), below 2^53. */
function isShortDigits(text: string, start: number, end: number): boolean {
  if (end - start > 15) return false;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return false;
  }
  return true;
}

/** Calls each(start, end) for every element of the JSON array at i. */
function eachElement(text: string, i: number, each: (start: number, end: number) => void): void {
  let j = skipSpace(text, i + 1);
  if (text.charCodeAt(j) === 0x5d) return;
  for (;;) {
    const end = valueEnd(text, j);
    each(j, end);
    j = skipSpace(text, end);
    if (text.charCodeAt(j) === 0x5d) return;
    j = skipSpace(text, j + 1); // past the comma
  }
}

/** The first shape or data_offsets entry of any tensor entry (repeated ones too) that is not a size as written. */
export function firstLiteralIssue(text: string): LiteralIssue | undefined {
  let found: LiteralIssue | undefined;
  eachMember(text, skipSpace(text, 0), (keyStart, keyEnd, at) => {
    if (found !== undefined || text.charCodeAt(at) !== 0x7b || keyIs(text, keyStart, keyEnd, '__metadata__')) return valueEnd(text, at);
    return eachMember(text, at, (fieldStart, fieldEnd, fieldAt) => {
      const end = valueEnd(text, fieldAt);
      const field = FIELDS.find((name) => keyIs(text, fieldStart, fieldEnd, name));
      if (found !== undefined || field === undefined || text.charCodeAt(fieldAt) !== 0x5b) return end;
      eachElement(text, fieldAt, (start, elementEnd) => {
        if (found !== undefined || isShortDigits(text, start, elementEnd)) return;
        const problem = literalProblem(text.slice(start, elementEnd));
        if (problem !== undefined)
          found = { tensor: keyText(text, keyStart, keyEnd), field, written: shown(text.slice(fieldAt, end)), problem };
      });
      return end;
    });
  });
  return found;
}
