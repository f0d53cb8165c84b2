// Typed Restart axis values: presets (a1111, sd) and segment lists [[N_r, K, t_min, t_max], ...], split at
// separators outside brackets and each segment checked as the Generate form checks its rows.
import { LIMITS, type RestartSettings } from '../../../src-core/contract/generate.ts';
import { valueCountError } from './axis-lists.ts';
import type { Check } from './form.ts';
import { checkRow, rowFromSegment } from './segments.ts';

/** Splits at commas, semicolons, new lines and spaces outside brackets. */
export function splitTopLevel(text: string): Check<string[]> {
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of text) {
    if (ch === '[') depth++;
    if (ch === ']') {
      depth--;
      if (depth < 0) return { error: 'a "]" has no matching "["' };
    }
    if (depth === 0 && /[\s,;]/.test(ch)) {
      if (current) parts.push(current);
      current = '';
    } else {
      current += ch;
    }
  }
  if (depth > 0) return { error: 'a "[" is not closed' };
  if (current) parts.push(current);
  return { value: parts };
}

const SEGMENT_LIST_EXAMPLE = '[[3,2,0.1,2]]';

/** One Restart value: a preset name or a segment list [[N_r, K, t_min, t_max], ...] (one bare segment is accepted too). */
export function parseRestartValue(token: string): Check<RestartSettings> {
  const t = token.trim();
  const lower = t.toLowerCase();
  if (lower === 'a1111' || lower === 'sd') return { value: { preset: lower } };
  if (!t.startsWith('[')) return { error: `"${t}" is not a preset (a1111, sd) or a segment list like ${SEGMENT_LIST_EXAMPLE}` };
  let parsed: unknown;
  try {
    parsed = JSON.parse(t);
  } catch {
    return { error: `"${t}" is not a segment list like ${SEGMENT_LIST_EXAMPLE}` };
  }
  if (!Array.isArray(parsed) || parsed.length === 0) return { error: `"${t}" has no segments` };
  const list = parsed.every((s) => typeof s === 'number') ? [parsed] : parsed;
  if (list.length > LIMITS.restartSegments) return { error: `"${t}" has ${list.length} segments; at most ${LIMITS.restartSegments}` };
  const segments: Array<[number, number, number, number]> = [];
  for (const [i, segment] of list.entries()) {
    if (!Array.isArray(segment) || segment.length !== 4 || !segment.every((v) => typeof v === 'number')) {
      return { error: `"${t}": segment ${i + 1} must be four numbers [N_r, K, t_min, t_max]` };
    }
    const row = checkRow(rowFromSegment(segment));
    if (row.error !== undefined) return { error: `"${t}": segment ${i + 1}: ${row.error}` };
    segments.push(row.segment);
  }
  return { value: { segments } };
}

export function parseRestartList(text: string): Check<RestartSettings[]> {
  const split = splitTopLevel(text);
  if (split.error !== undefined) return split;
  const values: RestartSettings[] = [];
  for (const token of split.value) {
    const v = parseRestartValue(token);
    if (v.error !== undefined) return v;
    values.push(v.value);
  }
  const e = valueCountError(values.length);
  return e ? { error: e } : { value: values };
}
