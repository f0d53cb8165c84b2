// AUTOMATIC1111's "parameters" text: the prompt, an optional "Negative prompt:" line, and a last
// line of "Key: value" pairs. Written the way A1111 writes it; read the way A1111 reads it, so
// files from A1111 and Fooocus fill our form and ours fill theirs.
import { pythonStrip } from '../prompt/python-chars.ts';
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
 * written unchanged, so a prompt line that itself starts with "Negative prompt:" (after any leading
 * whitespace) reads back as the start of the negative prompt (the prompt loses that line and everything
 * after it), and each prompt line reads back stripped of the whitespace around it. A1111 has the same
 * ambiguity and no escape; adding one would make A1111 read our files differently from us.
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

const NEGATIVE = 'Negative prompt:';

/**
 * Reads the text as A1111's parse_generation_parameters does: the last line is the pairs when it holds at least
 * 3; every other line is stripped; a line that starts with "Negative prompt:" (after its leading whitespace)
 * starts the negative prompt and loses that label, and so does every later such line; lines are joined with
 * "\n", a line added to a still empty prompt without one. A pair with nothing after its colon is counted
 * towards the 3 but not kept (A1111 fails on its empty value and leaves the key out); `Key: ""` is kept as "".
 */
export function parseParameters(text: string): ParsedParameters {
  const lines = pythonStrip(text).split('\n');
  const values: Record<string, string> = Object.create(null); // a key may be "__proto__"
  const lastPairs = scanPairs(lines[lines.length - 1]);
  if (lastPairs.length >= 3) {
    lines.pop();
    for (const [key, value] of lastPairs) if (value !== '') values[key] = unquote(value);
  }
  let prompt = '',
    negativePrompt = '',
    inNegative = false;
  for (const raw of lines) {
    let line = pythonStrip(raw);
    if (line.startsWith(NEGATIVE)) {
      inNegative = true;
      line = pythonStrip(line.slice(NEGATIVE.length));
    }
    if (inNegative) negativePrompt += (negativePrompt === '' ? '' : '\n') + line;
    else prompt += (prompt === '' ? '' : '\n') + line;
  }
  return { prompt, negativePrompt, values: { ...values } };
}
