// The "Key: value, Key: value" line of A1111's parameters, read in linear time with exactly the
// results of the regex A1111 reads it with (used with matchAll):
//   /\s*(\w[\w \-/]+):\s*("(?:\\.|[^\\"])+"|[^,]*)(?:,|$)/g
// That regex backtracks quadratically on long lines (80k characters of "a a a" took 28 s; runs of
// `kk: "\",` rescan the rest of the line for every key). Here three tables, each filled right to
// left in one pass, answer in O(1) what the regex finds by rescanning.

/** What the regex's \s matches (ECMAScript WhiteSpace and LineTerminator). */
export function isRegexSpace(c: number): boolean {
  return (
    c === 0x20 ||
    (c >= 0x09 && c <= 0x0d) ||
    c === 0xa0 ||
    c === 0x1680 ||
    (c >= 0x2000 && c <= 0x200a) ||
    c === 0x2028 ||
    c === 0x2029 ||
    c === 0x202f ||
    c === 0x205f ||
    c === 0x3000 ||
    c === 0xfeff
  );
}

/** \w without the u flag: ASCII letters, digits, underscore. */
function isWord(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x5f;
}

/** [\w \-/]: what a key may hold after its first character. */
function isKeyChar(c: number): boolean {
  return isWord(c) || c === 0x20 || c === 0x2d || c === 0x2f;
}

/** What the regex's `.` does not match. */
function isLineTerminator(c: number): boolean {
  return c === 0x0a || c === 0x0d || c === 0x2028 || c === 0x2029;
}

const COMMA = 0x2c,
  COLON = 0x3a,
  QUOTE = 0x22,
  BACKSLASH = 0x5c;

/** Every pair of the line, key and value trimmed, value still quoted if it was. */
export function scanPairs(line: string): Array<[string, string]> {
  const n = line.length;
  const code = (i: number) => line.charCodeAt(i);
  // nextNonSpace[i]: the first j >= i that is not \s (n if none).
  // keyRunEnd[i]: the first j >= i that is not a key character.
  // quotedStop[i]: where (?:\\.|[^\\"])* starting at i stops (it never backtracks usefully: only
  // its first stop can be the closing quote, as every character it consumes is not one).
  const nextNonSpace = new Int32Array(n + 1),
    keyRunEnd = new Int32Array(n + 1),
    quotedStop = new Int32Array(n + 1);
  nextNonSpace[n] = keyRunEnd[n] = quotedStop[n] = n;
  for (let i = n - 1; i >= 0; i--) {
    const c = code(i);
    nextNonSpace[i] = isRegexSpace(c) ? nextNonSpace[i + 1] : i;
    keyRunEnd[i] = isKeyChar(c) ? keyRunEnd[i + 1] : i;
    if (c === BACKSLASH) quotedStop[i] = i + 1 < n && !isLineTerminator(code(i + 1)) ? quotedStop[i + 2] : i;
    else quotedStop[i] = c === QUOTE ? i : quotedStop[i + 1];
  }

  const pairs: Array<[string, string]> = [];
  let pos = 0;
  while (pos < n) {
    // The regex tries each start position in turn; a start matches when, after its spaces, a word
    // character begins a run of at least two key characters that ends at a colon.
    let keyStart = -1,
      colon = -1;
    for (let p = pos; p < n; p++) {
      const q = nextNonSpace[p];
      if (q >= n || !isWord(code(q))) continue;
      const end = keyRunEnd[q + 1];
      if (end >= q + 2 && end < n && code(end) === COLON) {
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
    if (stop > valueStart + 1 && stop < n && code(stop) === QUOTE && (stop + 1 === n || code(stop + 1) === COMMA)) {
      valueEnd = stop + 1;
    } else {
      // Second alternative: everything up to the next comma or the end.
      const comma = line.indexOf(',', valueStart);
      valueEnd = comma < 0 ? n : comma;
    }
    pairs.push([line.slice(keyStart, colon).trim(), line.slice(valueStart, valueEnd).trim()]);
    pos = valueEnd < n ? valueEnd + 1 : n; // the comma, if any, belongs to this match
  }
  return pairs;
}
