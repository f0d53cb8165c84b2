// The Restart segment editor: rows of [N_r, K, t_min, t_max] as typed text, checked as the user
// types with the contract's RestartSegmentSchema, and turned into the request's restart settings.
import type { z } from 'zod';
import { LIMITS, RestartSegmentSchema, type RestartSettings } from '../../../src-core/contract/generate.ts';

export type RestartMode = 'a1111' | 'sd' | 'custom';
export type Segment = [number, number, number, number];

/** One editor row; strings so that half-typed values ("0.") survive. */
export interface SegmentRow {
  nr: string;
  k: string;
  tMin: string;
  tMax: string;
}

export const SEGMENT_FIELDS = [
  { key: 'nr', label: 'N_r', hint: 'points per restart pass' },
  { key: 'k', label: 'K', hint: 'restarts' },
  { key: 'tMin', label: 't_min', hint: 'lower sigma' },
  { key: 'tMax', label: 't_max', hint: 'upper sigma' },
] as const;

/** Extra paper-form settings that the editor keeps but does not show (e.g. from an imported PNG). */
export interface RestartExtra {
  restartGamma?: number;
  sMin?: number;
  sMax?: number;
}

export const DEFAULT_SEGMENT_ROW: SegmentRow = { nr: '10', k: '2', tMin: '0.1', tMax: '2' };

export function rowFromSegment(segment: readonly number[]): SegmentRow {
  const [nr, k, tMin, tMax] = segment;
  return { nr: String(nr ?? ''), k: String(k ?? ''), tMin: String(tMin ?? ''), tMax: String(tMax ?? '') };
}

function parseNumber(text: string): number | null {
  const t = text.trim();
  if (t === '') return null;
  const n = Number(t);
  return Number.isFinite(n) ? n : null;
}

type Issue = z.core.$ZodIssue;

function describeIssue(issue: Issue): string {
  const index = typeof issue.path[0] === 'number' ? issue.path[0] : -1;
  const field = SEGMENT_FIELDS[index]?.label;
  const subject = field ?? 'segment';
  if (issue.code === 'too_small') {
    const min = Number(issue.minimum);
    return issue.inclusive === false ? `${subject} must be greater than ${min}` : `${subject} must be at least ${min}`;
  }
  if (issue.code === 'too_big') {
    const max = Number(issue.maximum);
    return issue.inclusive === false ? `${subject} must be less than ${max}` : `${subject} must be at most ${max}`;
  }
  if (issue.code === 'invalid_type' && issue.expected === 'int') return `${subject} must be a whole number`;
  if (field) return `${subject}: ${issue.message}`;
  return issue.message;
}

export type RowCheck = { segment: Segment; error?: undefined } | { segment?: undefined; error: string };

/** Checks one row; the error names the field in the paper's notation ("N_r must be at least 2"). */
export function checkRow(row: SegmentRow): RowCheck {
  const values = SEGMENT_FIELDS.map((f) => parseNumber(row[f.key]));
  const missing = values.findIndex((v) => v === null);
  if (missing >= 0) return { error: `${SEGMENT_FIELDS[missing].label} must be a number` };
  const result = RestartSegmentSchema.safeParse(values);
  if (!result.success) return { error: result.error.issues.map(describeIssue).join('; ') };
  return { segment: result.data as Segment };
}

export interface RowsCheck {
  segments: Segment[] | null;
  /** One entry per row: null when the row is fine. */
  rowErrors: Array<string | null>;
  /** A problem with the list as a whole (empty, too many rows). */
  listError: string | null;
}

export function checkRows(rows: readonly SegmentRow[]): RowsCheck {
  const checks = rows.map(checkRow);
  const rowErrors = checks.map((c) => c.error ?? null);
  let listError: string | null = null;
  if (rows.length === 0) listError = 'add at least one segment';
  else if (rows.length > LIMITS.restartSegments) listError = `at most ${LIMITS.restartSegments} segments`;
  const ok = listError === null && rowErrors.every((e) => e === null);
  return { segments: ok ? checks.map((c) => c.segment as Segment) : null, rowErrors, listError };
}

/** A sentence for the first problem of the editor, or null when everything is valid. */
export function firstRowsError(check: RowsCheck): string | null {
  if (check.listError) return `Restart segments: ${check.listError}`;
  const i = check.rowErrors.findIndex((e) => e !== null);
  return i >= 0 ? `Restart segment ${i + 1}: ${check.rowErrors[i]}` : null;
}

export type RestartCheck = { restart: RestartSettings; error?: undefined } | { restart?: undefined; error: string };

/** The request's `restart` value for the editor state. */
export function restartSettings(mode: RestartMode, rows: readonly SegmentRow[], extra: RestartExtra = {}): RestartCheck {
  if (mode === 'a1111' || mode === 'sd') return { restart: { preset: mode } };
  const check = checkRows(rows);
  if (!check.segments) return { error: firstRowsError(check) ?? 'Restart segments are not valid' };
  const restart: RestartSettings = { segments: check.segments };
  if (extra.restartGamma !== undefined) restart.restartGamma = extra.restartGamma;
  if (extra.sMin !== undefined) restart.sMin = extra.sMin;
  if (extra.sMax !== undefined) restart.sMax = extra.sMax;
  return { restart };
}

/** Editor state from a request's restart value (imported PNG). */
export function restartEditorState(restart: unknown): { mode: RestartMode; rows: SegmentRow[]; extra: RestartExtra } | null {
  if (!restart || typeof restart !== 'object') return null;
  const r = restart as Record<string, unknown>;
  if (r.preset === 'a1111' || r.preset === 'sd') return { mode: r.preset, rows: [], extra: {} };
  if (!Array.isArray(r.segments)) return null;
  const rows = r.segments.filter((s): s is number[] => Array.isArray(s)).map(rowFromSegment);
  const extra: RestartExtra = {};
  if (typeof r.restartGamma === 'number') extra.restartGamma = r.restartGamma;
  if (typeof r.sMin === 'number') extra.sMin = r.sMin;
  if (typeof r.sMax === 'number') extra.sMax = r.sMax;
  return { mode: 'custom', rows, extra };
}
