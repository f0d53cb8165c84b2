// Python's float() and int() on text, as A1111's infotext reader applies them to a PNG's values: what they accept
// (any script's digits, Unicode spaces, underscores between digits, inf and nan) and what they refuse ("0x14", "").
import { isPythonWhitespace, readPythonDecimal } from '../prompt/python-chars.ts';

/**
 * The ASCII text Python's int() and float() parse, as they make it (_PyUnicode_TransformDecimalAndSpaceToASCII): every
 * Unicode space becomes " " and every decimal digit of any script its ASCII digit; undefined where another non-ASCII
 * character (or DEL) makes them fail. Then underscores, allowed only between two digits, are dropped, and the ASCII
 * spaces Python strips (not U+001C-U+001F, kept as they are) are stripped.
 */
function pythonNumberText(text: string): string | undefined {
  let ascii = '';
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    if (cp < 0x7f) ascii += ch;
    else if (isPythonWhitespace(cp)) ascii += ' ';
    else {
      const digit = /^\p{Nd}$/u.test(ch) ? readPythonDecimal(ch) : undefined;
      if (digit === undefined) return undefined;
      ascii += String(digit);
    }
  }
  if (ascii.includes('_')) {
    if (/(?<![0-9])_|_(?![0-9])/.test(ascii)) return undefined;
    ascii = ascii.replaceAll('_', '');
  }
  return ascii.replace(/^[\t\n\v\f\r ]+|[\t\n\v\f\r ]+$/g, '');
}

/** Python's float(text), or undefined where it raises ValueError ("0x14", "", "1 2"); "inf" and "nan" are read. */
export function pythonFloat(text: string): number | undefined {
  const ascii = pythonNumberText(text);
  if (ascii === undefined) return undefined;
  const m = /^([+-]?)(?:(inf(?:inity)?)|(nan)|((?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?))$/i.exec(ascii);
  if (!m) return undefined;
  if (m[2] !== undefined) return m[1] === '-' ? -Infinity : Infinity;
  if (m[3] !== undefined) return NaN;
  return Number(m[1] + m[4]); // both round the decimal correctly to the nearest double
}

/** Python's int(text) in base 10, or undefined where it raises ValueError ("1.0", "1e3"); past 2^53 the nearest double. */
export function pythonInt(text: string): number | undefined {
  const ascii = pythonNumberText(text);
  return ascii !== undefined && /^[+-]?\d+$/.test(ascii) ? Number(ascii) + 0 : undefined; // + 0: int('-0') is 0, not -0
}
