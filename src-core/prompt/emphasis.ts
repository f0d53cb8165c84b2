// AUTOMATIC1111's emphasis syntax: "(text)" x1.1, "[text]" /1.1, "(text:N)" xN, escapes, BREAK.
// The result is the list of (text, weight) pieces A1111's parser returns, so the same prompt gives the
// same weights here as there. The rules, including the odd ones, are in shared/specs/interop.md
// ("Prompt emphasis and long prompts (A1111)"); this is an independent implementation of them.
//
// One left-to-right scan cuts the prompt into lexemes in A1111's order of preference: an escape, a lone
// backslash, "(", "[", ":N)" (a weight that closes a round bracket), ")", "]", a run of plain text, a lone
// ":". Brackets remember where their pieces start; a closer multiplies every piece since its opener.
import { isPythonWhitespace, isPythonWordChar, readPythonDecimal } from './python-chars.ts';

/** One piece of text and its weight. The BREAK marker is the piece ("BREAK", -1). */
export type WeightedPiece = [text: string, weight: number];

export const ROUND_FACTOR = 1.1;
export const SQUARE_FACTOR = 1 / 1.1;
export const BREAK_TEXT = 'BREAK';
export const BREAK_WEIGHT = -1;

/** A prompt A1111 would refuse (a weight such as "1.2.3"); `position` is the 0-based character index. */
export class PromptSyntaxError extends Error {
  override name = 'PromptSyntaxError';
  constructor(
    message: string,
    readonly position: number,
  ) {
    super(message);
  }
}

/** True for the marker piece that closes a chunk (a BREAK inside brackets has another weight and is text). */
export function isBreakMarker(piece: WeightedPiece): boolean {
  return piece[0] === BREAK_TEXT && piece[1] === BREAK_WEIGHT;
}

const ESCAPABLE = new Set(['(', ')', '[', ']', '\\']);
/** Characters that end a run of plain text. */
const SPECIAL = new Set(['\\', '(', ')', '[', ']', ':']);

/** Parses the emphasis of one prompt into (text, weight) pieces, neighbours of equal weight merged. */
export function parseEmphasis(prompt: string): WeightedPiece[] {
  const pieces: WeightedPiece[] = [];
  const roundOpen: number[] = [];
  const squareOpen: number[] = [];
  const multiplyFrom = (start: number, factor: number) => {
    for (let p = start; p < pieces.length; p++) pieces[p][1] *= factor;
  };

  let i = 0;
  while (i < prompt.length) {
    const ch = prompt[i];
    if (ch === '\\') {
      const next = prompt[i + 1];
      // An escape gives its character; a backslash before anything else gives nothing.
      if (next !== undefined && ESCAPABLE.has(next)) {
        pieces.push([next, 1.0]);
        i += 2;
      } else {
        pieces.push(['', 1.0]);
        i += 1;
      }
    } else if (ch === '(') {
      roundOpen.push(pieces.length);
      i += 1;
    } else if (ch === '[') {
      squareOpen.push(pieces.length);
      i += 1;
    } else if (ch === ':') {
      const weight = matchWeightCloser(prompt, i);
      if (weight && roundOpen.length > 0) {
        const value = readPythonDecimal(weight.digits);
        if (value === undefined) {
          throw new PromptSyntaxError(
            `emphasis weight "${weight.digits}" at character ${weight.digitsAt + 1} is not a number ` +
              `(write it like (text:1.2); AUTOMATIC1111 refuses this prompt too)`,
            weight.digitsAt,
          );
        }
        multiplyFrom(roundOpen.pop()!, value);
        i = weight.end;
      } else if (weight) {
        // ":N)" with no "(" open is plain text, closer included.
        pushText(pieces, prompt.slice(i, weight.end));
        i = weight.end;
      } else {
        pushText(pieces, ':');
        i += 1;
      }
    } else if (ch === ')' && roundOpen.length > 0) {
      multiplyFrom(roundOpen.pop()!, ROUND_FACTOR);
      i += 1;
    } else if (ch === ']' && squareOpen.length > 0) {
      multiplyFrom(squareOpen.pop()!, SQUARE_FACTOR);
      i += 1;
    } else if (ch === ')' || ch === ']') {
      pushText(pieces, ch);
      i += 1;
    } else {
      let end = i + 1;
      while (end < prompt.length && !SPECIAL.has(prompt[end])) end++;
      pushText(pieces, prompt.slice(i, end));
      i = end;
    }
  }
  // Brackets left open weigh everything after them: round ones first, then square, each oldest first, as
  // A1111 does. The order shows in the last bits: "[((a:1.48)" gives 1.48 so, 1.4800000000000002 the other way.
  for (const start of roundOpen) multiplyFrom(start, ROUND_FACTOR);
  for (const start of squareOpen) multiplyFrom(start, SQUARE_FACTOR);

  if (pieces.length === 0) return [['', 1.0]];
  return mergeEqualNeighbours(pieces);
}

/**
 * ":" + optional whitespace + optional sign + a run of digits and dots + optional whitespace + ")".
 * Digits are Unicode decimal digits, as Python's \d. Exponents are not part of it.
 */
function matchWeightCloser(text: string, colon: number): { digits: string; digitsAt: number; end: number } | undefined {
  let i = colon + 1;
  while (i < text.length && isPythonWhitespace(text.codePointAt(i)!)) i++;
  const digitsAt = i;
  if (text[i] === '+' || text[i] === '-') i++;
  const runStart = i;
  while (i < text.length) {
    const cp = text.codePointAt(i)!;
    if (cp !== 0x2e && !/\p{Nd}/u.test(String.fromCodePoint(cp))) break;
    i += cp > 0xffff ? 2 : 1;
  }
  if (i === runStart) return undefined;
  const digits = text.slice(digitsAt, i);
  while (i < text.length && isPythonWhitespace(text.codePointAt(i)!)) i++;
  if (text[i] !== ')') return undefined;
  return { digits, digitsAt, end: i + 1 };
}

/** Adds a plain-text lexeme, split at each BREAK (a whole uppercase word; the whitespace around it goes). */
function pushText(pieces: WeightedPiece[], text: string): void {
  let start = 0;
  for (const cut of findBreaks(text)) {
    pieces.push([text.slice(start, cut.start), 1.0]);
    pieces.push([BREAK_TEXT, BREAK_WEIGHT]);
    start = cut.end;
  }
  pieces.push([text.slice(start), 1.0]);
}

/** Where BREAK splits `text`: leftmost first, each cut taking the whitespace on both sides of the word. */
function findBreaks(text: string): Array<{ start: number; end: number }> {
  const cuts: Array<{ start: number; end: number }> = [];
  let searchFrom = 0;
  for (let at = text.indexOf(BREAK_TEXT); at !== -1; at = text.indexOf(BREAK_TEXT, at + 1)) {
    if (at < searchFrom) continue;
    const after = at + BREAK_TEXT.length;
    const wordBefore = at > 0 && isPythonWordChar(codePointBefore(text, at));
    const wordAfter = after < text.length && isPythonWordChar(text.codePointAt(after)!);
    if (wordBefore || wordAfter) continue;
    let start = at;
    while (start > searchFrom && isPythonWhitespace(codePointBefore(text, start))) start -= charLengthBefore(text, start);
    let end = after;
    while (end < text.length && isPythonWhitespace(text.codePointAt(end)!)) end += text.codePointAt(end)! > 0xffff ? 2 : 1;
    cuts.push({ start, end });
    searchFrom = end;
  }
  return cuts;
}

function codePointBefore(text: string, index: number): number {
  const low = text.charCodeAt(index - 1);
  if (index >= 2 && low >= 0xdc00 && low <= 0xdfff) {
    const high = text.charCodeAt(index - 2);
    if (high >= 0xd800 && high <= 0xdbff) return text.codePointAt(index - 2)!;
  }
  return low;
}

function charLengthBefore(text: string, index: number): number {
  return codePointBefore(text, index) > 0xffff ? 2 : 1;
}

function mergeEqualNeighbours(pieces: WeightedPiece[]): WeightedPiece[] {
  const merged: WeightedPiece[] = [[pieces[0][0], pieces[0][1]]];
  for (let p = 1; p < pieces.length; p++) {
    const last = merged[merged.length - 1];
    if (last[1] === pieces[p][1]) last[0] += pieces[p][0];
    else merged.push([pieces[p][0], pieces[p][1]]);
  }
  return merged;
}
