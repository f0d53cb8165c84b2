// Typed axis values as lists: numbers ("10, 20 30;40") checked against a kind's rules, and A1111's Prompt S/R
// texts; every list holds 1 to MAX_AXIS_VALUES values.
import type { Check } from './form.ts';

export const MAX_AXIS_VALUES = 12;

export interface NumberRules {
  integer: boolean;
  min: number;
  max: number;
}

/** The problem with a list of `n` values, or null when the count is allowed. */
export function valueCountError(n: number): string | null {
  if (n === 0) return 'enter at least one value';
  if (n > MAX_AXIS_VALUES) return `at most ${MAX_AXIS_VALUES} values (there are ${n})`;
  return null;
}

/** "10, 20 30;40" -> [10, 20, 30, 40], each checked against the rules. */
export function parseNumberList(text: string, rules: NumberRules = { integer: false, min: -Infinity, max: Infinity }): Check<number[]> {
  const tokens = text.split(/[\s,;]+/).filter((t) => t !== '');
  const values: number[] = [];
  for (const token of tokens) {
    const n = Number(token);
    if (!Number.isFinite(n)) return { error: `"${token}" is not a number` };
    if (rules.integer && !Number.isInteger(n)) return { error: `${token} is not a whole number` };
    if (n < rules.min) return { error: `${token} is below the minimum of ${rules.min}` };
    if (n > rules.max) return { error: `${token} is above the maximum of ${rules.max}` };
    values.push(n);
  }
  const e = valueCountError(values.length);
  return e ? { error: e } : { value: values };
}

/**
 * Prompt S/R values as A1111 reads them: comma-separated, each trimmed, empty ones dropped; a value in double
 * quotes may hold commas ("a, b"), a doubled quote inside is one quote. The first value is what is searched for.
 */
export function parsePromptSRList(text: string): Check<string[]> {
  const values: string[] = [];
  let i = 0;
  while (i <= text.length) {
    while (i < text.length && text[i] === ' ') i++;
    let value = '';
    if (text[i] === '"') {
      i++;
      for (;;) {
        if (i >= text.length) return { error: 'a quoted value is not closed' };
        if (text[i] === '"' && text[i + 1] === '"') {
          value += '"';
          i += 2;
          continue;
        }
        if (text[i] === '"') {
          i++;
          break;
        }
        value += text[i++];
      }
      while (i < text.length && text[i] !== ',') value += text[i++];
    } else {
      while (i < text.length && text[i] !== ',') value += text[i++];
    }
    if (value.trim() !== '') values.push(value.trim());
    i++;
  }
  const e = valueCountError(values.length);
  return e ? { error: e } : { value: values };
}
