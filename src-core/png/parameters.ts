// AUTOMATIC1111's "parameters" text: the prompt, an optional "Negative prompt:" line, and a last
// line of "Key: value" pairs. Written the way A1111 writes it; read the way A1111 reads it, so
// files from A1111 and Fooocus fill our form and ours fill theirs.
import { scanPairs } from './parameter-pairs.ts';

export interface ParsedParameters {
  prompt: string;
  negativePrompt: string;
  /** Every pair on the last line, values unquoted. */
  values: Record<string, string>;
}

/** A1111 quotes a value (JSON string) only when it holds a comma, a colon or a newline. */
export function quoteValue(value: string): string {
  return /[,:\n]/.test(value) ? JSON.stringify(value) : value;
}

/** Exactly the JSON strings (no surrounding space): checked first, as a failing JSON.parse costs
 * microseconds each, which adds up over a line of a hundred thousand `"\"` values. */
// eslint-disable-next-line no-control-regex -- JSON strings exclude the control characters
const JSON_STRING = /^"(?:[^"\\\u0000-\u001f]|\\["\\/bfnrt]|\\u[0-9a-fA-F]{4})*"$/;

function unquote(value: string): string {
  if (!JSON_STRING.test(value)) return value;
  try {
    const parsed: unknown = JSON.parse(value);
    return typeof parsed === 'string' ? parsed : value;
  } catch {
    return value;
  }
}

/**
 * The text A1111 writes: prompt, "Negative prompt: ..." when there is one, then the pairs. Prompts are
 * written unchanged, so a prompt line that itself starts with "Negative prompt:" reads back as the
 * start of the negative prompt (the prompt loses that line and everything after it). A1111 has the
 * same ambiguity and no escape; adding one would make A1111 read our files differently from us.
 */
export function formatParameters(prompt: string, negativePrompt: string, values: Array<[string, string | number | undefined]>): string {
  const pairs = values
    .filter((entry): entry is [string, string | number] => entry[1] !== undefined && entry[1] !== '')
    .map(([key, value]) => (String(value) === key ? key : `${key}: ${quoteValue(String(value))}`))
    .join(', ');
  const lines = [prompt];
  if (negativePrompt) lines.push(`Negative prompt: ${negativePrompt}`);
  lines.push(pairs);
  return lines.join('\n').trim();
}

function pairsOf(line: string): Array<[string, string]> {
  return scanPairs(line).map(([key, value]) => [key, unquote(value)]);
}

export function parseParameters(text: string): ParsedParameters {
  const lines = text.trim().split('\n');
  let values: Record<string, string> = {};
  const lastPairs = pairsOf(lines[lines.length - 1] ?? '');
  // A1111 takes the last line as parameters only if it yields at least 3 pairs.
  if (lines.length > 0 && lastPairs.length >= 3) {
    values = Object.fromEntries(lastPairs);
    lines.pop();
  }
  const promptLines: string[] = [],
    negativeLines: string[] = [];
  let inNegative = false;
  for (const line of lines) {
    if (!inNegative && line.startsWith('Negative prompt:')) {
      inNegative = true;
      negativeLines.push(line.slice('Negative prompt:'.length).trim());
    } else {
      (inNegative ? negativeLines : promptLines).push(line);
    }
  }
  return { prompt: promptLines.join('\n').trim(), negativePrompt: negativeLines.join('\n').trim(), values };
}
