// Character classes as Python's `re` module sees them in str patterns (A1111's parser is Python).
// JavaScript's \s, \w and \b differ: \s has U+FEFF and lacks U+001C-U+001F and U+0085; \w and \b are
// ASCII-only. So the classes are spelled out here.

/** Python's str.isspace(): bidi classes WS, B, S and category Zs. */
export function isPythonWhitespace(codePoint: number): boolean {
  return (
    (codePoint >= 0x09 && codePoint <= 0x0d) ||
    (codePoint >= 0x1c && codePoint <= 0x20) ||
    codePoint === 0x85 ||
    codePoint === 0xa0 ||
    codePoint === 0x1680 ||
    (codePoint >= 0x2000 && codePoint <= 0x200a) ||
    codePoint === 0x2028 ||
    codePoint === 0x2029 ||
    codePoint === 0x202f ||
    codePoint === 0x205f ||
    codePoint === 0x3000
  );
}

/** The same set as a regular-expression class, for patterns built to mirror A1111's regexes (composable.ts). */
export const PYTHON_WHITESPACE_CLASS = '[\\t-\\r\\x1c-\\x20\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]';

/** Python's str.strip() and str.rstrip() (without arguments): its whitespace, not JavaScript's trim()'s. */
export function pythonStrip(text: string): string {
  let start = 0;
  while (start < text.length && isPythonWhitespace(text.charCodeAt(start))) start++;
  return pythonRstrip(text.slice(start));
}

export function pythonRstrip(text: string): string {
  let end = text.length;
  while (end > 0 && isPythonWhitespace(text.charCodeAt(end - 1))) end--;
  return text.slice(0, end);
}

const WORD_CHAR = /^[\p{L}\p{N}_]$/u;

/** Python's \w in str patterns: letters, numbers (any Unicode N category) and "_". */
export function isPythonWordChar(codePoint: number): boolean {
  return WORD_CHAR.test(String.fromCodePoint(codePoint));
}

const DECIMAL_DIGIT = /^\p{Nd}$/u;

/**
 * The value of a Unicode decimal digit. Unicode keeps every script's digits 0-9 in consecutive code points
 * (blocks of ten, possibly back to back), so the value is the distance to the start of the run, mod 10.
 */
function digitValue(codePoint: number): number {
  let start = codePoint;
  while (DECIMAL_DIGIT.test(String.fromCodePoint(start - 1))) start--;
  return (codePoint - start) % 10;
}

/**
 * Python's float() on a string of an optional sign, decimal digits (any script, as float() accepts) and
 * dots; undefined where float() raises ("1.2.3", ".").
 */
export function readPythonDecimal(text: string): number | undefined {
  let ascii = '';
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    ascii += cp < 0x80 ? ch : DECIMAL_DIGIT.test(ch) ? String(digitValue(cp)) : ch;
  }
  if (!/^[+-]?(\d+\.?\d*|\.\d+)$/.test(ascii)) return undefined;
  return Number(ascii);
}
