// AUTOMATIC1111's "parameters" text: the prompt, an optional "Negative prompt:" line, and a last
// line of "Key: value" pairs. Written the way A1111 writes it; read the way A1111 reads it, so
// files from A1111 and Fooocus fill our form and ours fill theirs.

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

function unquote(value: string): string {
  if (!value.startsWith('"') || !value.endsWith('"')) return value;
  try {
    const parsed: unknown = JSON.parse(value);
    return typeof parsed === 'string' ? parsed : value;
  } catch {
    return value;
  }
}

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

const PAIR = /\s*(\w[\w \-/]+):\s*("(?:\\.|[^\\"])+"|[^,]*)(?:,|$)/g;

function pairsOf(line: string): Array<[string, string]> {
  return [...line.matchAll(PAIR)].map((m) => [m[1].trim(), unquote(m[2].trim())]);
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
  const promptLines: string[] = [], negativeLines: string[] = [];
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
