// The generate form: its state, its defaults from app.info, and the conversions between the form
// and the contract's generation request (both ways: sending, and filling it from a PNG).
import type { AppInfo, Params } from '../../../src-core/contract/api.ts';
import {
  describeIssues,
  EMPHASIS_CHOICES,
  GenerateRequestSchema,
  LIMITS,
  NOISE_SOURCE_CHOICES,
  SAMPLER_CHOICES,
  SCHEDULE_CHOICES,
  type GenerateRequestInput,
} from '../../../src-core/contract/generate.ts';
import { promptLengthError } from './format.ts';
import { sizeBounds } from './image-size.ts';
import { RANDOM_SEED, resolveSeed } from './seed.ts';
import { applyScheduleSettings, scheduleSettingsFields, type ScheduleSettingsForm } from './schedule-settings-form.ts';
import { applyChurn, churnFields, type ChurnForm } from './churn-form.ts';
import {
  DEFAULT_SEGMENT_ROW,
  restartEditorState,
  restartSettings,
  type RestartExtra,
  type RestartMode,
  type SegmentRow,
} from './segments.ts';

export type SamplerName = (typeof SAMPLER_CHOICES)[number];
export type ScheduleName = (typeof SCHEDULE_CHOICES)[number];
export type EmphasisName = (typeof EMPHASIS_CHOICES)[number];
export type NoiseSourceName = (typeof NOISE_SOURCE_CHOICES)[number];

/** Number inputs give null while empty, hence `number | null`. A1111's schedule settings are ScheduleSettingsForm's. */
export interface FormState extends ScheduleSettingsForm, ChurnForm {
  prompt: string;
  negativePrompt: string;
  sampler: SamplerName;
  schedule: ScheduleName;
  steps: number | null;
  cfgScale: number | null;
  /** -1 = random. */
  seed: number | null;
  /** A1111's variation seed (-1 = random) and strength (0 = off): each image's first noise turned towards the seed's. */
  variationSeed: number | null;
  variationStrength: number | null;
  /** A1111's "Resize seed from width/height" in pixels; 0 (either side) = off. */
  seedResizeFromWidth: number | null;
  seedResizeFromHeight: number | null;
  /** A1111's "Eta noise seed delta" (ENSD): the noise drawn after each image's first comes from seed + it; 0 = off. */
  etaNoiseSeedDelta: number | null;
  count: number | null;
  batchSize: number | null;
  width: number | null;
  height: number | null;
  noiseSource: NoiseSourceName;
  restartMode: RestartMode;
  segments: SegmentRow[];
  restartExtra: RestartExtra;
  /** Carried from imported parameters; not edited in the form. */
  eta: number | null;
  sNoise: number | null;
  timestepMode: 'fractional' | 'nearest';
  /** A1111's emphasis mode: what (word:1.2) weights do. */
  emphasis: EmphasisName;
  /** A1111's Clip skip (SD 1.x): the text encoder's layer from the end the prompt is read at; 1 = the last. */
  clipSkip: number;
  /** SDXL's size conditioning (the advanced section); null: the default (the image size, crop 0). */
  originalWidth: number | null;
  originalHeight: number | null;
  cropTop: number | null;
  cropLeft: number | null;
}

export const FALLBACK_SIZE = 512;
export const FALLBACK_VAE_FACTOR = 8;

export function defaultForm(info?: AppInfo | null): FormState {
  return {
    prompt: '',
    negativePrompt: '',
    sampler: 'euler',
    schedule: 'karras',
    steps: 20,
    cfgScale: 7,
    seed: RANDOM_SEED,
    variationSeed: RANDOM_SEED,
    variationStrength: 0,
    seedResizeFromWidth: 0,
    seedResizeFromHeight: 0,
    etaNoiseSeedDelta: 0,
    scheduleSigmaMin: null,
    scheduleSigmaMax: null,
    scheduleRho: null,
    discardPenultimateSigma: false,
    count: 1,
    batchSize: 1,
    width: info?.model?.width ?? FALLBACK_SIZE,
    height: info?.model?.height ?? FALLBACK_SIZE,
    noiseSource: 'default',
    restartMode: 'a1111',
    segments: [{ ...DEFAULT_SEGMENT_ROW }],
    restartExtra: {},
    eta: null,
    sNoise: null,
    sChurn: null,
    sTmin: null,
    sTmax: null,
    timestepMode: 'fractional',
    emphasis: 'original',
    clipSkip: 1,
    originalWidth: null,
    originalHeight: null,
    cropTop: null,
    cropLeft: null,
  };
}

export function vaeFactorOf(info?: AppInfo | null): number {
  const f = info?.model?.vaeFactor;
  return typeof f === 'number' && f > 0 ? f : FALLBACK_VAE_FACTOR;
}

/** What image sides must be multiples of: the model's size multiple, or its VAE factor from a server that does not say. */
export function sizeMultipleOf(info?: AppInfo | null): number {
  const m = info?.model?.sizeMultiple;
  return typeof m === 'number' && Number.isInteger(m) && m > 0 ? m : vaeFactorOf(info);
}

/** Samplers that ignore the schedule choice (they have their own timestep grid). */
export function scheduleApplies(sampler: SamplerName): boolean {
  return sampler !== 'ddim';
}

export type Check<T> = { value: T; error?: undefined } | { value?: undefined; error: string };

/**
 * The number fields' check: "Steps is empty", "Steps must be a whole number", then the bound it
 * passes ("must be at least 1", "must be at most 500"), or with `bounds` 'range' both ("must be from 2 to 64").
 */
export function wholeNumber(label: string, v: number | null, min: number, max: number, bounds: 'each' | 'range' = 'each'): string | null {
  if (v === null || v === undefined || Number.isNaN(v)) return `${label} is empty`;
  if (!Number.isInteger(v)) return `${label} must be a whole number`;
  if (bounds === 'range' && (v < min || v > max)) return `${label} must be from ${min} to ${max}`;
  if (v < min) return `${label} must be at least ${min}`;
  if (v > max) return `${label} must be at most ${max}`;
  return null;
}

function cfgError(v: number | null): string | null {
  if (v === null || v === undefined || Number.isNaN(v)) return 'CFG scale is empty';
  if (!Number.isFinite(v) || v < 0 || v > LIMITS.cfgScale) return `CFG scale must be between 0 and ${LIMITS.cfgScale}`;
  return null;
}

function sideError(label: string, v: number | null, multiple: number): string | null {
  const bounds = sizeBounds(multiple);
  const e = wholeNumber(label, v, bounds.min, bounds.max);
  if (e) return e;
  if ((v as number) % bounds.step !== 0) return `${label} must be a multiple of ${bounds.step}`;
  return null;
}

/** SDXL's original size and crop: each empty (its default) or a whole number in the contract's range. */
function sizeConditioningError(form: FormState): string | null {
  const optional = (label: string, v: number | null | undefined, min: number) =>
    v === null || v === undefined ? null : wholeNumber(label, v, min, LIMITS.imageSide);
  return (
    optional('Original width', form.originalWidth, 1) ??
    optional('Original height', form.originalHeight, 1) ??
    optional('Crop top', form.cropTop, 0) ??
    optional('Crop left', form.cropLeft, 0)
  );
}

/** "8 images" under batch count and batch size: A1111 makes count x size images. */
export function imageTotalText(form: Pick<FormState, 'count' | 'batchSize'>): string {
  const { count, batchSize } = form;
  if (!count || !batchSize || count < 1 || batchSize < 1) return '';
  const total = count * batchSize;
  return `${total} image${total === 1 ? '' : 's'}${count > 1 && batchSize > 1 ? ` (${count} batches of ${batchSize})` : ''}`;
}

/** plan.describe params for the form, or the first problem (so no call is made). */
export function planParams(form: FormState): Check<Params<'plan.describe'>> {
  const error = wholeNumber('Steps', form.steps, 1, LIMITS.steps) ?? cfgError(form.cfgScale);
  if (error) return { error };
  const params: Params<'plan.describe'> = {
    sampler: form.sampler,
    schedule: form.schedule,
    steps: form.steps as number,
    cfgScale: form.cfgScale as number,
  };
  if (form.sampler === 'restart') {
    const r = restartSettings(form.restartMode, form.segments, form.restartExtra);
    if (r.error !== undefined) return { error: r.error };
    params.restart = r.restart;
  }
  return { value: params };
}

export interface RequestOptions {
  vaeFactor?: number;
  /** What image sides must be multiples of (LoadedModel.sizeMultiple); the VAE factor when left out. */
  sizeMultiple?: number;
  random?: () => number;
}

/** The job.generate request for the form: the seed is resolved here (-1 -> random). */
export function formToRequest(form: FormState, options: RequestOptions = {}): Check<GenerateRequestInput> {
  const multiple = options.sizeMultiple ?? options.vaeFactor ?? FALLBACK_VAE_FACTOR;
  const plan = planParams(form);
  if (plan.error !== undefined) return { error: plan.error };
  const error =
    promptLengthError(form.prompt, 'prompt') ??
    promptLengthError(form.negativePrompt, 'negative prompt') ??
    wholeNumber('Batch count', form.count, 1, LIMITS.count) ??
    wholeNumber('Batch size', form.batchSize, 1, LIMITS.batchSize) ??
    sideError('Width', form.width, multiple) ??
    sideError('Height', form.height, multiple) ??
    sizeConditioningError(form);
  if (error) return { error };
  const seed = resolveSeed(form.seed, options.random);
  if (seed.error !== undefined) return { error: seed.error };
  const variation = variationFields(form, options.random);
  if (variation.error !== undefined) return { error: variation.error };
  const seedResize = seedResizeFields(form);
  if (seedResize.error !== undefined) return { error: seedResize.error };
  const seedDelta = seedDeltaField(form);
  if (seedDelta.error !== undefined) return { error: seedDelta.error };
  const scheduleSettings = scheduleSettingsFields(form);
  if (scheduleSettings.error !== undefined) return { error: scheduleSettings.error };
  const churn = churnFields(form);
  if (churn.error !== undefined) return { error: churn.error };
  const request: GenerateRequestInput = {
    prompt: form.prompt,
    negativePrompt: form.negativePrompt,
    sampler: form.sampler,
    schedule: form.schedule,
    steps: form.steps as number,
    cfgScale: form.cfgScale as number,
    seed: seed.seed,
    ...variation.value,
    ...seedResize.value,
    ...seedDelta.value,
    ...scheduleSettings.value,
    ...churn.value,
    count: form.count as number,
    batchSize: form.batchSize as number,
    width: form.width as number,
    height: form.height as number,
    noiseSource: form.noiseSource,
    timestepMode: form.timestepMode,
  };
  if (plan.value.restart) request.restart = plan.value.restart;
  if (form.eta !== null) request.eta = form.eta;
  if (form.sNoise !== null) request.sNoise = form.sNoise;
  // Left out at the default, so requests read as before the setting existed.
  if (form.emphasis && form.emphasis !== 'original') request.emphasis = form.emphasis;
  if (form.clipSkip && form.clipSkip !== 1) request.clipSkip = form.clipSkip;
  for (const key of ['originalWidth', 'originalHeight', 'cropTop', 'cropLeft'] as const) {
    const value = form[key];
    if (value !== null && value !== undefined) request[key] = value;
  }
  const checked = GenerateRequestSchema.safeParse(request);
  if (!checked.success) {
    return { error: describeIssues(checked.error) };
  }
  return { value: request };
}

/** The request's variation fields: none at strength 0 (requests read as before the setting existed), else both. */
function variationFields(form: FormState, random?: () => number): Check<Pick<GenerateRequestInput, 'variationSeed' | 'variationStrength'>> {
  const strength = form.variationStrength;
  if (strength === null || strength === undefined || strength === 0) return { value: {} };
  if (!Number.isFinite(strength) || strength < 0 || strength > 1) return { error: 'Variation strength must be between 0 and 1' };
  const seed = resolveSeed(form.variationSeed, random, 'Variation seed');
  if (seed.error !== undefined) return { error: seed.error };
  return { value: { variationSeed: seed.seed, variationStrength: strength } };
}

/** The request's seed resize: none while off (empty or 0 on either side, as A1111), else both sides. */
function seedResizeFields(form: FormState): Check<Pick<GenerateRequestInput, 'seedResizeFromWidth' | 'seedResizeFromHeight'>> {
  const width = form.seedResizeFromWidth ?? 0,
    height = form.seedResizeFromHeight ?? 0;
  if (width === 0 || height === 0) return { value: {} };
  const side = (label: string, v: number) =>
    wholeNumber(label, v, LIMITS.minImageSide, LIMITS.imageSide, 'range')?.concat(' (or 0: off)') ?? null;
  const error = side('Resize seed from width', width) ?? side('Resize seed from height', height);
  return error ? { error } : { value: { seedResizeFromWidth: width, seedResizeFromHeight: height } };
}

/** The request's ENSD: none at 0 or empty (requests read as before the setting existed), else the whole number. */
function seedDeltaField(form: FormState): Check<Pick<GenerateRequestInput, 'etaNoiseSeedDelta'>> {
  const delta = form.etaNoiseSeedDelta ?? 0;
  if (delta === 0) return { value: {} };
  if (wholeNumber('Eta noise seed delta', delta, 0, LIMITS.etaNoiseSeedDelta) === null) return { value: { etaNoiseSeedDelta: delta } };
  return { error: `Eta noise seed delta must be a whole number from 0 (off) to ${LIMITS.etaNoiseSeedDelta}` };
}

function pick<T extends string>(choices: readonly T[], v: unknown): T | undefined {
  return typeof v === 'string' && (choices as readonly string[]).includes(v) ? (v as T) : undefined;
}

function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

/**
 * Fills the form from (part of) a request, e.g. the one png.read found in a file. Fields the
 * request does not have keep their current values; the seed becomes a fixed value.
 */
export function applyRequest(form: FormState, request: Partial<GenerateRequestInput>): FormState {
  const next: FormState = { ...form, segments: form.segments.map((r) => ({ ...r })), restartExtra: { ...form.restartExtra } };
  if (typeof request.prompt === 'string') next.prompt = request.prompt;
  if (typeof request.negativePrompt === 'string') next.negativePrompt = request.negativePrompt;
  next.sampler = pick(SAMPLER_CHOICES, request.sampler) ?? next.sampler;
  next.schedule = pick(SCHEDULE_CHOICES, request.schedule) ?? next.schedule;
  next.noiseSource = pick(NOISE_SOURCE_CHOICES, request.noiseSource) ?? next.noiseSource;
  next.steps = num(request.steps) ?? next.steps;
  next.cfgScale = num(request.cfgScale) ?? next.cfgScale;
  next.seed = num(request.seed) ?? next.seed;
  // A PNG without a variation strength was made without variation.
  next.variationStrength = num(request.variationStrength) ?? 0;
  next.variationSeed = num(request.variationSeed) ?? next.variationSeed;
  // A PNG without "Seed resize from" was made without it.
  next.seedResizeFromWidth = num(request.seedResizeFromWidth) ?? 0;
  next.seedResizeFromHeight = num(request.seedResizeFromHeight) ?? 0;
  // Nor one without "ENSD" (A1111 writes it only when on).
  next.etaNoiseSeedDelta = num(request.etaNoiseSeedDelta) ?? 0;
  applyScheduleSettings(next, request);
  applyChurn(next, request);
  next.count = num(request.count) ?? next.count;
  next.batchSize = num(request.batchSize) ?? next.batchSize;
  next.width = num(request.width) ?? next.width;
  next.height = num(request.height) ?? next.height;
  next.eta = num(request.eta) ?? null;
  next.sNoise = num(request.sNoise) ?? null;
  next.timestepMode = request.timestepMode === 'nearest' ? 'nearest' : 'fractional';
  next.emphasis = pick(EMPHASIS_CHOICES, request.emphasis) ?? next.emphasis;
  // A PNG without it was made at 1 (A1111 reads it so).
  next.clipSkip = num(request.clipSkip) ?? 1;
  // A PNG without them was made at the defaults.
  next.originalWidth = num(request.originalWidth) ?? null;
  next.originalHeight = num(request.originalHeight) ?? null;
  next.cropTop = num(request.cropTop) ?? null;
  next.cropLeft = num(request.cropLeft) ?? null;
  const restart = restartEditorState(request.restart);
  if (restart) {
    next.restartMode = restart.mode;
    if (restart.mode === 'custom') next.segments = restart.rows.length ? restart.rows : [{ ...DEFAULT_SEGMENT_ROW }];
    next.restartExtra = restart.extra;
  }
  return next;
}

/**
 * Form defaults after the model changed: the size follows the new model when it was the old default.
 * The first model fills each side the user has not typed: a typed side is never paired with a placeholder.
 */
export function adaptToModel(form: FormState, before: AppInfo | null, after: AppInfo | null): FormState {
  const next = { ...form };
  if (after?.model && !before?.model) {
    if (form.width === null || form.width === FALLBACK_SIZE) next.width = after.model.width;
    if (form.height === null || form.height === FALLBACK_SIZE) next.height = after.model.height;
    return next;
  }
  const oldW = before?.model?.width ?? FALLBACK_SIZE,
    oldH = before?.model?.height ?? FALLBACK_SIZE;
  if (after?.model && (form.width === null || form.width === oldW) && (form.height === null || form.height === oldH)) {
    next.width = after.model.width;
    next.height = after.model.height;
  }
  return next;
}
