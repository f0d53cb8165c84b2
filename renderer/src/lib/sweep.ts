// The Explore view's guidance sweep: its form and the job.sweep request (checked with
// SweepRequestSchema as the user types), the points in table order, the plot's series (one line
// per sampler over the CFG scales), and the CSV / JSON exports.
import type { Events, SweepPoint, SweepPointEvent } from '../../../src-core/contract/api.ts';
import { SweepRequestSchema, sweepBatchSize, type SweepRequestInput } from '../../../src-core/contract/experiments.ts';
import { LIMITS, SAMPLER_CHOICES } from '../../../src-core/contract/generate.ts';
import { parseNumberList } from './axis-lists.ts';
import { experimentFraction, withinText, type ExperimentEvent, type ExperimentState } from './experiment.ts';
import { wholeNumber, type FormState, type SamplerName } from './form.ts';
import { restartSettings } from './segments.ts';
import { sweepGenerateSettings } from './sweep-generate-settings.ts';

export type { SweepRequestInput };
export type SweepDone = Events['sweep.done'];
export type SweepState = ExperimentState<SweepRequestInput, SweepPointEvent, SweepDone>;
export type SweepEvent = ExperimentEvent<SweepPointEvent, SweepDone>;

export const MAX_SWEEP_SAMPLERS = 6;
export const MAX_SWEEP_SCALES = 12;

/** Number inputs give null while empty. `prompt` null = the Generate form's prompt. */
export interface ExploreForm {
  prompt: string | null;
  samplers: SamplerName[];
  steps: number | null;
  cfgText: string;
  seeds: number | null;
  firstSeed: number | null;
}

export function defaultExploreForm(): ExploreForm {
  return { prompt: null, samplers: ['euler', 'dpmpp_2m'], steps: 20, cfgText: '1, 2, 3, 5, 8', seeds: 6, firstSeed: 0 };
}

export type SweepField = 'prompt' | 'samplers' | 'steps' | 'cfgScales' | 'seeds' | 'firstSeed' | 'other';
export type SweepErrors = Partial<Record<SweepField, string>>;

export interface SweepCheck {
  request: SweepRequestInput | null;
  errors: SweepErrors;
  /** Images the sweep makes (0 while the form is not valid). */
  images: number;
}

export const SWEEP_FIELD_LABELS: Record<SweepField, string> = {
  prompt: 'Prompt',
  samplers: 'Samplers',
  steps: 'Steps',
  cfgScales: 'CFG scales',
  seeds: 'Seeds per scale',
  firstSeed: 'First seed',
  other: 'Sweep',
};

/** "CFG scales: "x" is not a number" for the first problem, or null. */
export function firstSweepError(errors: SweepErrors): string | null {
  for (const field of Object.keys(SWEEP_FIELD_LABELS) as SweepField[]) {
    if (errors[field]) return `${SWEEP_FIELD_LABELS[field]}: ${errors[field]}`;
  }
  return null;
}

const FIELDS: readonly SweepField[] = ['prompt', 'samplers', 'steps', 'cfgScales', 'seeds', 'firstSeed'];

/**
 * The job.sweep request: the Explore form's own fields, and the negative prompt, schedule, noise source, Clip skip,
 * emphasis, ENSD and (when Restart is among the samplers) Restart settings of the Generate form.
 */
export function buildSweepRequest(explore: ExploreForm, form: FormState): SweepCheck {
  const errors: SweepErrors = {};
  const samplers = SAMPLER_CHOICES.filter((s) => explore.samplers.includes(s));
  if (samplers.length === 0) errors.samplers = 'tick at least one sampler';
  else if (samplers.length > MAX_SWEEP_SAMPLERS) errors.samplers = `at most ${MAX_SWEEP_SAMPLERS} samplers`;
  const steps = wholeNumber('Steps', explore.steps, 1, LIMITS.steps, 'range');
  if (steps) errors.steps = steps;
  const scales = parseNumberList(explore.cfgText, { integer: false, min: 0, max: LIMITS.cfgScale });
  if (scales.error !== undefined) errors.cfgScales = scales.error.replace(/^at most 12 values/, `at most ${MAX_SWEEP_SCALES} scales`);
  // A repeated scale would be a second point with the same seeds (the same images): one plot point, two table rows.
  const repeated = scales.value?.find((v, i) => scales.value.indexOf(v) !== i);
  if (repeated !== undefined) errors.cfgScales = `${repeated} is listed twice`;
  const seeds = wholeNumber('Seeds per scale', explore.seeds, 2, 64, 'range');
  if (seeds) errors.seeds = seeds;
  const first = wholeNumber('First seed', explore.firstSeed, 0, Number.MAX_SAFE_INTEGER, 'range');
  if (first) errors.firstSeed = first;
  const request: SweepRequestInput = {
    prompt: explore.prompt ?? form.prompt,
    negativePrompt: form.negativePrompt,
    samplers,
    steps: explore.steps ?? 0,
    schedule: form.schedule,
    cfgScales: scales.value ?? [],
    seeds: explore.seeds ?? 0,
    firstSeed: explore.firstSeed ?? 0,
  };
  const settings = sweepGenerateSettings(form);
  if ('error' in settings) errors.other = `${settings.error} (Generate view)`;
  else Object.assign(request, settings.value);
  if (samplers.includes('restart')) {
    const r = restartSettings(form.restartMode, form.segments, form.restartExtra);
    if (r.error !== undefined) errors.samplers = `${r.error} (Generate view's Restart settings)`;
    else request.restart = r.restart;
  }
  const images = samplers.length * (scales.value?.length ?? 0) * (explore.seeds ?? 0);
  if (Object.keys(errors).length) return { request: null, errors, images: 0 };
  const checked = SweepRequestSchema.safeParse(request);
  if (!checked.success) {
    for (const issue of checked.error.issues) {
      const head = issue.path[0];
      const field = FIELDS.find((f) => f === head) ?? 'other';
      const where = issue.path.length > 1 ? `${issue.path.slice(1).join('.')}: ` : field === 'other' ? `${issue.path.join('.')}: ` : '';
      errors[field] = `${errors[field] ? `${errors[field]}; ` : ''}${where}${issue.message}`;
    }
    return { request: null, errors, images: 0 };
  }
  return { request, errors, images };
}

export function sweepTotal(request: Pick<SweepRequestInput, 'samplers' | 'cfgScales'>): number {
  return (request.samplers?.length ?? 1) * request.cfgScales.length;
}

/** The point the engine works on now: samplers outside, CFG scales inside. */
export function currentPoint(
  request: Pick<SweepRequestInput, 'samplers' | 'cfgScales'>,
  done: number,
): { sampler: string; cfgScale: number } | null {
  const samplers = request.samplers ?? ['euler'];
  const n = request.cfgScales.length;
  if (n === 0 || done >= samplers.length * n) return null;
  return { sampler: samplers[Math.floor(done / n)], cfgScale: request.cfgScales[done % n] };
}

/** "Point 2 of 6 (Euler, CFG 4) · images 1–3 of 3 · evaluation 2 / 6" (a point's 3 seeds are one batch) */
export function sweepProgressText(
  state: Pick<SweepState, 'phase' | 'total' | 'items' | 'progress' | 'request'>,
  label: (sampler: string) => string = (s) => s,
): string {
  if (state.phase === 'starting') return 'Queuing the sweep…';
  const n = Math.min(state.items.length + 1, Math.max(state.total, 1));
  const point = state.request ? currentPoint(state.request, state.items.length) : null;
  const what = point ? ` (${label(point.sampler)}, CFG ${point.cfgScale})` : '';
  const batch = pointBatch(state.request);
  return `Point ${n} of ${state.total}${what} · ${withinText(state.progress, batch) ?? 'waiting for the engine…'}`;
}

/** Images of a point made together (the engine batches a point's seeds, sweepBatchSize): they progress as one. */
function pointBatch(request: Pick<SweepRequestInput, 'seeds'> | null | undefined): number {
  return request?.seeds ? sweepBatchSize(request.seeds) : 1;
}

export function sweepProgressPercent(
  state: Pick<SweepState, 'phase' | 'total' | 'items' | 'progress'> & Partial<Pick<SweepState, 'request'>>,
): number {
  return Math.round(experimentFraction(state, pointBatch(state.request)) * 1000) / 10;
}

/** Points in the request's order (samplers, then CFG scales), whatever order they arrived in. */
export function orderedPoints(
  request: Pick<SweepRequestInput, 'samplers' | 'cfgScales'> | null,
  points: readonly SweepPointEvent[],
): SweepPointEvent[] {
  const samplers: readonly string[] = request?.samplers ?? [];
  const rank = (p: SweepPointEvent) => {
    const s = samplers.indexOf(p.sampler);
    return s < 0 ? samplers.length : s;
  };
  return [...points].sort((a, b) => rank(a) - rank(b) || a.cfgScale - b.cfgScale);
}

export const ACCURACY_UNAVAILABLE = 'prompt accuracy: not available for this prompt/model';

export type AccuracyState = 'pending' | 'available' | 'unavailable';

export function accuracyState(points: readonly SweepPointEvent[]): AccuracyState {
  if (points.length === 0) return 'pending';
  return points.some((p) => p.accuracy !== null) ? 'available' : 'unavailable';
}

/**
 * The real-vs-real floor of the sweep's FD (every point has as many seeds, so one floor), or null when no point has an
 * FD: the model's evaluator has no real images of what the prompt asks.
 */
export function fdFloor(points: readonly SweepPointEvent[]): number | null {
  return points.find((p) => p.fd)?.fd?.floor ?? null;
}

export const FD_UNAVAILABLE = 'FD to real images: not available for this prompt/model';

export interface SeriesLine {
  sampler: string;
  values: Array<number | null>;
}

export interface SweepSeries {
  /** CFG scales, ascending, without repeats. */
  x: number[];
  diversity: SeriesLine[];
  accuracy: SeriesLine[];
  /** Frechet distance to real images of the same prompt (null where the model's evaluator has none). */
  fd: SeriesLine[];
}

/** One line per requested sampler over the requested CFG scales; missing points are null (gaps). */
export function sweepSeries(request: Pick<SweepRequestInput, 'samplers' | 'cfgScales'>, points: readonly SweepPointEvent[]): SweepSeries {
  const x = [...new Set(request.cfgScales)].sort((a, b) => a - b);
  const samplers = request.samplers ?? ['euler'];
  const find = (sampler: string, cfg: number) => points.find((p) => p.sampler === sampler && p.cfgScale === cfg);
  const line = (value: (p: SweepPointEvent) => number | null | undefined) =>
    samplers.map((sampler) => ({
      sampler,
      values: x.map((cfg) => {
        const p = find(sampler, cfg);
        const v = p ? value(p) : null;
        return typeof v === 'number' && Number.isFinite(v) ? v : null;
      }),
    }));
  return { x, diversity: line((p) => p.diversity), accuracy: line((p) => p.accuracy), fd: line((p) => p.fd?.value) };
}

/** uPlot's data array: [x, line 1, line 2, ...]. */
export function plotData(x: number[], lines: readonly SeriesLine[]): [number[], ...Array<Array<number | null>>] {
  return [x, ...lines.map((l) => l.values)];
}

/** A distinct colour per sampler line. */
export const SERIES_COLORS = ['#f08a3c', '#4ea1f3', '#57ab5a', '#d66ba0', '#e3b341', '#9d7cf0'] as const;

export function seriesColor(i: number): string {
  return SERIES_COLORS[((i % SERIES_COLORS.length) + SERIES_COLORS.length) % SERIES_COLORS.length];
}

export const AXIS_LABEL_CHARS = 34;

/**
 * The diversity axis label from the feature space: "diversity · evaluator features", or only the
 * space's first clause when that would not fit along the axis ("RGB pixels averaged to 16x16").
 */
export function diversityAxisLabel(featureSpace: string | null): string {
  const short = (featureSpace ?? '').split(',')[0].trim();
  if (!short) return 'diversity';
  const full = `diversity · ${short}`;
  if (full.length <= AXIS_LABEL_CHARS) return full;
  return short.length <= AXIS_LABEL_CHARS ? short : `${short.slice(0, AXIS_LABEL_CHARS - 1)}…`;
}

/** Three significant digits; whole numbers from 100 up. */
const threeDigits = (v: number) => (Math.abs(v) >= 100 ? v.toFixed(0) : v.toPrecision(3));

export function formatDiversity(d: number): string {
  return Number.isFinite(d) ? threeDigits(d) : '–';
}

export function formatAccuracy(a: number | null): string {
  return a === null ? 'n/a' : `${(a * 100).toFixed(0)}%`;
}

/** "412 (floor 95)": the conditional FD next to what real images score; "n/a" without one. */
export function formatFd(fd: SweepPoint['fd']): string {
  return fd ? `${threeDigits(fd.value)} (floor ${threeDigits(fd.floor)})` : 'n/a';
}

function csvField(v: string | number | null): string {
  if (v === null) return '';
  const s = String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** One row per point: sampler, CFG, NFE, seconds per image, diversity, accuracy, FD and its floor, space, seeds. */
export function sweepCsv(points: readonly SweepPointEvent[]): string {
  const header = 'sampler,cfg_scale,nfe,seconds_per_image,diversity,accuracy,fd,fd_floor,feature_space,seeds';
  const rows = points.map((p) =>
    [
      p.sampler,
      p.cfgScale,
      p.evaluations,
      p.secondsPerImage.toFixed(4),
      p.diversity,
      p.accuracy,
      p.fd?.value ?? null,
      p.fd?.floor ?? null,
      p.featureSpace,
      p.entries.map((e) => e.seed).join(' '),
    ]
      .map(csvField)
      .join(','),
  );
  return [header, ...rows].join('\n') + '\n';
}

export interface SweepJsonPoint extends SweepPoint {
  seeds: number[];
  ids: string[];
}

export function sweepJson(
  request: SweepRequestInput | null,
  featureSpace: string | null,
  points: readonly SweepPointEvent[],
): { request: SweepRequestInput | null; featureSpace: string | null; points: SweepJsonPoint[] } {
  return {
    request,
    featureSpace,
    points: points.map((p) => ({
      sampler: p.sampler,
      cfgScale: p.cfgScale,
      evaluations: p.evaluations,
      secondsPerImage: p.secondsPerImage,
      diversity: p.diversity,
      accuracy: p.accuracy,
      fd: p.fd,
      seeds: p.entries.map((e) => e.seed),
      ids: p.entries.map((e) => e.id),
    })),
  };
}
