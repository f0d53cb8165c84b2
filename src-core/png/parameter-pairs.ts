// The "Key: value, Key: value" line of A1111's parameters, read in linear time with exactly the
// results of the regex A1111 reads it with (re_param, used with re.findall):
//   \s*(\w[\w \-/]+):\s*("(?:\\.|[^\\"])+"|[^,]*)(?:,|$)
// That regex backtracks quadratically on long lines (80k characters of "a a a" took 28 s; runs of
// `kk: "\",` rescan the rest of the line for every key). Here three tables, each filled right to
// left in one pass, answer in O(1) what the regex finds by rescanning.
//
// It is Python's regex, so its classes are Python's for str patterns, not JavaScript's: \s is
// str.isspace() (U+001C-U+001F and U+0085 are spaces, U+FEFF is not), \w is Unicode letters, numbers
// and "_" ("Größe: 512" is a pair), `.` is anything but "\n", and `$` also matches before a "\n" that
// ends the line. A string is code points there: a letter outside the BMP is one \w, not two halves.
import { isPythonWhitespace, isPythonWordChar } from '../prompt/python-chars.ts';

/** Python's \w, ASCII answered without the Unicode lookup. */
function isWord(codePoint: number): boolean {
  if (codePoint >= 0x80) return isPythonWordChar(codePoint);
  return (
    (codePoint >= 0x30 && codePoint <= 0x39) ||
    (codePoint >= 0x41 && codePoint <= 0x5a) ||
    (codePoint >= 0x61 && codePoint <= 0x7a) ||
    codePoint === 0x5f
  );
}

/** [\w \-/]: what a key may hold after its first character. */
function isKeyChar(codePoint: number): boolean {
  return codePoint === 0x20 || codePoint === 0x2d || codePoint === 0x2f || isWord(codePoint);
}

const COMMA = 0x2c,
  COLON = 0x3a,
  QUOTE = 0x22,
  BACKSLASH = 0x5c,
  NEWLINE = 0x0a;

const isHigh = (unit: number) => unit >= 0xd800 && unit <= 0xdbff;
const isLow = (unit: number) => unit >= 0xdc00 && unit <= 0xdfff;

/**
 * Every pair of the line as re.findall gives it: key and value exactly as matched (not stripped:
 * "Steps : 20 " gives "Steps " and "20 ", as in A1111), the value still quoted if it was.
 */
export function scanPairs(line: string): Array<[string, string]> {
  const n = line.length;
  const code = (i: number) => line.charCodeAt(i);
  /** The code point starting at i (a lone surrogate is its own, neither \s nor \w, as in Python). */
  const codePoint = (i: number) => {
    const c = code(i);
    return isHigh(c) && i + 1 < n && isLow(code(i + 1)) ? line.codePointAt(i)! : c;
  };
  const width = (cp: number) => (cp > 0xffff ? 2 : 1);
  // nextNonSpace[i]: the first j >= i that is not \s (n if none).
  // keyRunEnd[i], for i where a code point starts: the first code point j >= i that is not a key character.
  // quotedStop[i]: where (?:\\.|[^\\"])* starting at i stops (it never backtracks usefully: only
  // its first stop can be the closing quote, as every character it consumes is not one).
  // Surrogate halves are neither spaces, quotes nor backslashes, so the first and last tables can go
  // by UTF-16 unit.
  const nextNonSpace = new Int32Array(n + 1),
    keyRunEnd = new Int32Array(n + 1),
    quotedStop = new Int32Array(n + 1);
  nextNonSpace[n] = keyRunEnd[n] = quotedStop[n] = n;
  for (let i = n - 1; i >= 0; i--) {
    const c = code(i);
    nextNonSpace[i] = isPythonWhitespace(c) ? nextNonSpace[i + 1] : i;
    if (isLow(c) && i > 0 && isHigh(code(i - 1)))
      keyRunEnd[i] = i; // second half of a pair: never a start
    else {
      const cp = codePoint(i);
      keyRunEnd[i] = isKeyChar(cp) ? keyRunEnd[i + width(cp)] : i;
    }
    if (c === BACKSLASH) quotedStop[i] = i + 1 < n && code(i + 1) !== NEWLINE ? quotedStop[i + 2] : i;
    else quotedStop[i] = c === QUOTE ? i : quotedStop[i + 1];
  }
  // Python's $ (no MULTILINE): the end, or just before a "\n" that is the last character.
  const atEnd = (i: number) => i === n || (i === n - 1 && code(i) === NEWLINE);

  const pairs: Array<[string, string]> = [];
  let pos = 0;
  while (pos < n) {
    // The regex tries each start position in turn; a start matches when, after its spaces, a word
    // character begins a run of at least two key characters that ends at a colon.
    let keyStart = -1,
      colon = -1;
    for (let p = pos; p < n; p++) {
      const q = nextNonSpace[p];
      if (q >= n) break;
      const cp = codePoint(q);
      if (!isWord(cp)) continue; // a pair's second half (or a lone half) is no \w
      const second = q + width(cp);
      const end = keyRunEnd[second];
      if (end > second && end < n && code(end) === COLON) {
        keyStart = q;
        colon = end;
        break;
      }
    }
    if (keyStart < 0) break;
    const valueStart = nextNonSpace[colon + 1];
    let valueEnd: number;
    // First alternative: a quoted value of at least one character, followed by a comma or the end.
    const stop = valueStart < n && code(valueStart) === QUOTE ? quotedStop[valueStart + 1] : -1;
    if (stop > valueStart + 1 && stop < n && code(stop) === QUOTE && (atEnd(stop + 1) || code(stop + 1) === COMMA)) {
      valueEnd = stop + 1;
    } else {
      // Second alternative: everything up to the next comma or the end.
      const comma = line.indexOf(',', valueStart);
      valueEnd = comma < 0 ? n : comma;
    }
    pairs.push([line.slice(keyStart, colon), line.slice(valueStart, valueEnd)]);
    pos = valueEnd < n && code(valueEnd) === COMMA ? valueEnd + 1 : valueEnd; // the comma, if any, belongs to this match
  }
  return pairs;
}
