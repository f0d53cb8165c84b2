// The Compare view's axes: which parameter each axis varies, the values as typed (numbers and
// Restart settings as text, samplers and schedules as ticked boxes), parsed into the contract's
// grid axis and checked with GridRequestSchema as the user types.
import type { z } from 'zod';
import { GridRequestSchema, type AxisKind, type GridAxisSchema } from '../../../src-core/contract/experiments.ts';
import {
  LIMITS,
  SAMPLER_CHOICES,
  SCHEDULE_CHOICES,
  type GenerateRequestInput,
  type RestartSettings,
} from '../../../src-core/contract/generate.ts';
import { formToRequest, type Check, type FormState, type RequestOptions, type SamplerName, type ScheduleName } from './form.ts';
import { resolveSeed } from './seed.ts';
import { checkRow, restartSettings, rowFromSegment } from './segments.ts';

export type { AxisKind };
export type GridAxisInput = z.input<typeof GridAxisSchema>;
export type GridRequestInput = z.input<typeof GridRequestSchema>;

export const MAX_AXIS_VALUES = 12;

export type AxisEditor = 'choices' | 'numbers' | 'restart' | 'texts';
/** The kinds whose values are typed as numbers. */
export type NumberKind = 'steps' | 'cfgScale' | 'seed' | 'strength' | 'clipSkip' | 'variationSeed' | 'variationStrength';
export type TextKind = NumberKind | 'restart' | 'promptSR';

export const AXIS_KINDS: ReadonlyArray<{ kind: AxisKind; label: string; editor: AxisEditor }> = [
  { kind: 'sampler', label: 'Sampler', editor: 'choices' },
  { kind: 'steps', label: 'Steps', editor: 'numbers' },
  { kind: 'cfgScale', label: 'CFG scale', editor: 'numbers' },
  { kind: 'seed', label: 'Seed', editor: 'numbers' },
  { kind: 'restart', label: 'Restart setting', editor: 'restart' },
  { kind: 'schedule', label: 'Schedule', editor: 'choices' },
  { kind: 'promptSR', label: 'Prompt S/R', editor: 'texts' },
  { kind: 'strength', label: 'Denoising strength', editor: 'numbers' },
  // A1111's X/Y/Z plot names.
  { kind: 'clipSkip', label: 'Clip skip', editor: 'numbers' },
  { kind: 'variationSeed', label: 'Var. seed', editor: 'numbers' },
  { kind: 'variationStrength', label: 'Var. strength', editor: 'numbers' },
];

export function axisEditor(kind: AxisKind): AxisEditor {
  return AXIS_KINDS.find((k) => k.kind === kind)?.editor ?? 'numbers';
}

export function axisKindLabel(kind: AxisKind): string {
  return AXIS_KINDS.find((k) => k.kind === kind)?.label ?? kind;
}

/** One axis as the user left it; the values of every kind are kept so switching kinds loses nothing. */
export interface AxisForm {
  kind: AxisKind | 'none';
  texts: Record<TextKind, string>;
  samplers: SamplerName[];
  schedules: ScheduleName[];
}

export interface CompareForm {
  x: AxisForm;
  y: AxisForm;
}

export const TEXT_PLACEHOLDERS: Record<TextKind, string> = {
  steps: '10, 20, 30',
  cfgScale: '3, 5, 7, 9',
  seed: '1, 2, 3, 4',
  restart: 'a1111, sd, [[3,2,0.1,2]]',
  promptSR: 'red, (red:1.3), (red:1.6)',
  strength: '0.3, 0.5, 0.7',
  clipSkip: '1, 2',
  variationSeed: '1, 2, 3, 4',
  variationStrength: '0, 0.1, 0.2, 0.3',
};

export function defaultAxis(kind: AxisForm['kind']): AxisForm {
  return {
    kind,
    texts: {
      steps: '10, 20, 30',
      cfgScale: '3, 5, 7, 9',
      seed: '1, 2, 3, 4',
      restart: 'a1111, sd',
      promptSR: '',
      strength: '0.3, 0.5, 0.7',
      clipSkip: '1, 2',
      variationSeed: '1, 2, 3, 4',
      variationStrength: '0, 0.1, 0.2, 0.3',
    },
    samplers: ['euler', 'heun', 'dpmpp_2m'],
    schedules: ['karras', 'normal'],
  };
}

export function defaultCompareForm(): CompareForm {
  return { x: defaultAxis('sampler'), y: defaultAxis('none') };
}

interface NumberRules {
  integer: boolean;
  min: number;
  max: number;
}

const NUMBER_RULES: Record<NumberKind, NumberRules> = {
  steps: { integer: true, min: 1, max: LIMITS.steps },
  cfgScale: { integer: false, min: 0, max: LIMITS.cfgScale },
  seed: { integer: true, min: 0, max: Number.MAX_SAFE_INTEGER },
  // Above 0 (the contract says so; a 0 is reported by the grid's check).
  strength: { integer: false, min: 0, max: 1 },
  clipSkip: { integer: true, min: 1, max: LIMITS.clipSkip },
  variationSeed: { integer: true, min: 0, max: Number.MAX_SAFE_INTEGER },
  // 0 is allowed: a cell without variation, to compare with.
  variationStrength: { integer: false, min: 0, max: 1 },
};

function countError(n: number): string | null {
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
  const e = countError(values.length);
  return e ? { error: e } : { value: values };
}

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
  const e = countError(values.length);
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
  const e = countError(values.length);
  return e ? { error: e } : { value: values };
}

function ticked<T extends string>(all: readonly T[], chosen: readonly string[]): T[] {
  return all.filter((v) => chosen.includes(v));
}

/** The contract's axis for the form (kind must not be 'none'). */
export function axisFromForm(form: AxisForm): Check<GridAxisInput> {
  switch (form.kind) {
    case 'sampler': {
      const values = ticked(SAMPLER_CHOICES, form.samplers);
      const e = values.length === 0 ? 'tick at least one sampler' : null;
      return e ? { error: e } : { value: { kind: 'sampler', values } };
    }
    case 'schedule': {
      const values = ticked(SCHEDULE_CHOICES, form.schedules);
      return values.length === 0 ? { error: 'tick at least one schedule' } : { value: { kind: 'schedule', values } };
    }
    case 'restart': {
      const r = parseRestartList(form.texts.restart);
      return r.error !== undefined ? r : { value: { kind: 'restart', values: r.value } };
    }
    case 'steps':
    case 'cfgScale':
    case 'seed':
    case 'strength':
    case 'clipSkip':
    case 'variationSeed':
    case 'variationStrength': {
      const kind = form.kind;
      const r = parseNumberList(form.texts[kind], NUMBER_RULES[kind]);
      return r.error !== undefined ? r : { value: { kind, values: r.value } as GridAxisInput };
    }
    case 'promptSR': {
      const r = parsePromptSRList(form.texts.promptSR);
      return r.error !== undefined ? r : { value: { kind: 'promptSR', values: r.value } };
    }
    case 'none':
      return { error: 'no axis chosen' };
  }
}

export interface GridErrors {
  base: string | null;
  x: string | null;
  y: string | null;
  other: string | null;
}

export interface GridCheck {
  request: GridRequestInput | null;
  errors: GridErrors;
  /** Cells the grid will have (0 while an axis is not valid). */
  cells: number;
}

/** "X values: enter at least one value" for the first problem, or null. */
export function firstGridError(errors: GridErrors): string | null {
  if (errors.base) return `Base request: ${errors.base}`;
  if (errors.x) return `X values: ${errors.x}`;
  if (errors.y) return `Y values: ${errors.y}`;
  return errors.other;
}

function describePath(path: ReadonlyArray<PropertyKey>): string {
  const rest = path.slice(1).map(String);
  if (rest[0] === 'values' && rest.length >= 2)
    return `value ${Number(rest[1]) + 1}${rest.length > 2 ? ` (${rest.slice(2).join('.')})` : ''}: `;
  return rest.length ? `${rest.join('.')}: ` : '';
}

/**
 * The job.grid request for the axes and the Generate form's request (`base`), with one error per
 * place (base, X, Y, other) as the contract's schema reports them.
 */
export function buildGridRequest(form: CompareForm, base: Check<GenerateRequestInput>): GridCheck {
  const errors: GridErrors = { base: null, x: null, y: null, other: null };
  const x = axisFromForm(form.x);
  if (x.error !== undefined) errors.x = x.error;
  let y: Check<GridAxisInput> | null = null;
  if (form.y.kind !== 'none') {
    if (form.y.kind === form.x.kind) errors.y = 'the Y axis must vary something other than the X axis';
    else {
      y = axisFromForm(form.y);
      if (y.error !== undefined) errors.y = y.error;
    }
  }
  if (base.error !== undefined) errors.base = base.error;
  const cells = x.value ? x.value.values.length * (y?.value ? y.value.values.length : 1) : 0;
  if (errors.base || errors.x || errors.y || !x.value || !base.value) return { request: null, errors, cells: errors.y ? 0 : cells };
  const request: GridRequestInput = { base: { ...base.value, count: 1, batchSize: 1 }, x: x.value };
  if (y?.value) request.y = y.value;
  const checked = GridRequestSchema.safeParse(request);
  if (!checked.success) {
    for (const issue of checked.error.issues) {
      const where = issue.path[0];
      const slot: keyof GridErrors = where === 'x' || where === 'y' || where === 'base' ? where : 'other';
      const text = `${describePath(issue.path)}${issue.message}`;
      errors[slot] = errors[slot] ? `${errors[slot]}; ${text}` : text;
    }
    return { request: null, errors, cells };
  }
  return { request, errors, cells };
}

export function axisKinds(request: Pick<GridRequestInput, 'x' | 'y'>): AxisKind[] {
  return request.y ? [request.x.kind, request.y.kind] : [request.x.kind];
}

function quotePrompt(prompt: string, max = 48): string {
  const flat = prompt.replace(/\s+/g, ' ').trim();
  if (!flat) return '(no prompt)';
  return `“${flat.length > max ? `${flat.slice(0, max - 1)}…` : flat}”`;
}

/** "“a red circle” · seed 7 · CFG 7" (what an axis varies says so instead). */
export function baseSummary(base: GenerateRequestInput, options: { randomSeed: boolean; axes: readonly AxisKind[] }): string {
  const prompt = options.axes.includes('promptSR') ? `${quotePrompt(base.prompt)} (S/R from the axis)` : quotePrompt(base.prompt);
  const seed = options.axes.includes('seed') ? 'seed from the axis' : options.randomSeed ? 'random seed' : `seed ${base.seed}`;
  const cfg = options.axes.includes('cfgScale') ? 'CFG from the axis' : `CFG ${base.cfgScale ?? 7}`;
  return [prompt, seed, cfg].join(' · ');
}

/**
 * "Euler · 20 steps · karras · 512×512", then A1111's Clip skip, variation and seed resize where set ("Clip skip 2 ·
 * Var. seed 100 · Var. strength 0.3 · Seed resize from 256×384"), leaving out what an axis varies. `randomVariationSeed`:
 * the form's Variation seed is -1 (the base then holds a stand-in).
 */
export function baseDetails(
  base: GenerateRequestInput,
  axes: readonly AxisKind[],
  samplerName: (name: string) => string = (n) => n,
  options: { randomVariationSeed?: boolean } = {},
): string {
  const parts: string[] = [];
  if (!axes.includes('sampler') && !axes.includes('restart')) parts.push(samplerName(base.sampler ?? 'euler'));
  if (!axes.includes('steps')) parts.push(`${base.steps ?? 20} steps`);
  if (!axes.includes('schedule')) parts.push(base.schedule === 'normal' ? 'Normal' : 'Karras'); // the UI's labels
  if (base.width && base.height) parts.push(`${base.width}×${base.height}`);
  return [...parts, ...a1111Details(base, axes, options.randomVariationSeed ?? false)].join(' · ');
}

/** Clip skip (1, the last layer, is the default), variation (on at a strength over 0 or with a strength axis), seed resize. */
function a1111Details(base: GenerateRequestInput, axes: readonly AxisKind[], randomVariationSeed: boolean): string[] {
  const parts: string[] = [];
  if (!axes.includes('clipSkip') && base.clipSkip !== undefined && base.clipSkip > 1) parts.push(`Clip skip ${base.clipSkip}`);
  const strengthAxis = axes.includes('variationStrength');
  if ((base.variationStrength ?? 0) > 0 || strengthAxis) {
    if (!axes.includes('variationSeed') && base.variationSeed !== undefined)
      parts.push(randomVariationSeed ? 'random Var. seed' : `Var. seed ${base.variationSeed}`);
    if (!strengthAxis) parts.push(`Var. strength ${base.variationStrength}`);
  }
  if (base.seedResizeFromWidth && base.seedResizeFromHeight)
    parts.push(`Seed resize from ${base.seedResizeFromWidth}×${base.seedResizeFromHeight}`);
  return parts;
}

/** True when a sampler axis includes Restart: its cells then use the Generate form's Restart settings. */
export function samplerAxisHasRestart(form: CompareForm): boolean {
  return [form.x, form.y].some((a) => a.kind === 'sampler' && a.samplers.includes('restart'));
}

/**
 * The grid's base request from the Generate form: one image per cell; when a sampler axis includes
 * Restart and the form's sampler is another one, the form's Restart settings are carried along; a
 * Var. strength axis gets the form's Variation seed (-1: one random seed for the grid) even at strength 0.
 * `random` draws the seed when the form says random (pass a fixed one while only checking).
 */
export function gridBase(form: FormState, compare: CompareForm, options: RequestOptions = {}): Check<GenerateRequestInput> {
  const checked = formToRequest(form, options);
  if (checked.error !== undefined) return { error: `${checked.error} (Generate view)` };
  const base: GenerateRequestInput = { ...checked.value, count: 1, batchSize: 1 };
  if (samplerAxisHasRestart(compare) && !base.restart) {
    const r = restartSettings(form.restartMode, form.segments, form.restartExtra);
    if (r.error !== undefined) return { error: `${r.error} (Generate view's Restart settings)` };
    base.restart = r.restart;
  }
  // A1111 turns a Var. strength axis towards the request's variation seed (subseed), drawn once for the whole grid
  // when random; the form's request leaves it out while the form's own strength is 0.
  const hasStrengthAxis = compare.x.kind === 'variationStrength' || compare.y.kind === 'variationStrength';
  if (hasStrengthAxis && base.variationSeed === undefined) {
    const seed = resolveSeed(form.variationSeed, options.random, 'Variation seed');
    if (seed.error !== undefined) return { error: `${seed.error} (Generate view)` };
    base.variationSeed = seed.seed;
  }
  return { value: base };
}
