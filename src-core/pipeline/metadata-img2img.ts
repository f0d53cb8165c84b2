// img2img's and hires fix's PNG parameters under A1111's keys ("Denoising strength", "Noise multiplier", "Hires upscale" or
// "Hires resize", "Hires steps", "Hires upscaler", "Hires sampler", "Hires CFG Scale", "Hires schedule type", "Hires prompt",
// "Hires negative prompt"), in both directions. Like
// A1111, the "Size" of a hires image is its first pass's size; the image itself is that times the upscale, or the
// resize target.
import {
  HIRES_UPSCALER_LABELS,
  HIRES_UPSCALERS,
  RESIZE_MODE_LABELS,
  RESIZE_MODES,
  DEFAULT_STRENGTH,
  DEFAULT_HIRES_STRENGTH,
  type HiresUpscaler,
} from '../contract/images.ts';
import { LIMITS, type GenerateRequest, type GenerateRequestInput } from '../contract/generate.ts';
import { SAMPLERS, type SamplerName } from '../samplers/index.ts';
import { pythonFloat } from './python-numbers.ts';
import { AUTOMATIC_SCHEDULE, SCHEDULE_BY_LABEL, SCHEDULE_LABELS } from './schedule-labels.ts';

type Pair = [string, string | number | undefined];

export function img2imgValues(request: GenerateRequest): Pair[] {
  if (request.initImage) {
    const mode = request.resizeMode ?? 'just-resize';
    return [
      ['Denoising strength', request.strength ?? DEFAULT_STRENGTH],
      ['Resize mode', mode === 'just-resize' ? undefined : RESIZE_MODE_LABELS[mode]],
      ['Exact steps', request.exactSteps ? 'True' : undefined],
      ['Noise multiplier', writtenNoiseMultiplier(request)],
    ];
  }
  const hires = request.hires;
  if (!hires) return [];
  const sampler = hires.sampler && hires.sampler !== request.sampler ? SAMPLERS[hires.sampler as SamplerName].label : undefined;
  // A1111 writes one of the two: "Hires resize: WxH" (a side 0 keeps the aspect) where a side is set, which then wins.
  const resize = hires.resizeWidth || hires.resizeHeight ? `${hires.resizeWidth ?? 0}x${hires.resizeHeight ?? 0}` : undefined;
  return [
    ['Denoising strength', hires.strength ?? DEFAULT_HIRES_STRENGTH],
    ['Hires upscale', resize ? undefined : hires.scale],
    ['Hires resize', resize],
    ['Hires steps', hires.steps || undefined],
    ['Hires upscaler', HIRES_UPSCALER_LABELS[hires.upscaler ?? 'latent']],
    ['Hires sampler', sampler],
    // Written where it differs from the first pass's, as "Hires sampler" (so a scale equal to CFG scale writes nothing).
    ['Hires CFG Scale', hires.cfgScale !== undefined && hires.cfgScale !== request.cfgScale ? hires.cfgScale : undefined],
    ['Hires schedule type', hiresScheduleLabel(request)],
    // A1111 writes its hr_prompt and hr_negative_prompt where they differ from the prompts (quoted as any value).
    ['Hires prompt', hires.prompt && hires.prompt !== request.prompt ? hires.prompt : undefined],
    ['Hires negative prompt', hires.negativePrompt && hires.negativePrompt !== request.negativePrompt ? hires.negativePrompt : undefined],
  ];
}

/** img2img's noise multiplier where A1111 writes it: an img2img run with one other than 1. */
export function writtenNoiseMultiplier(request: GenerateRequest): number | undefined {
  const multiplier = request.img2imgNoiseMultiplier;
  return request.initImage && multiplier !== undefined && multiplier !== 1 ? multiplier : undefined;
}

/**
 * A1111's "Noise multiplier" (img2img's; its UI's range 0 to 1.5) into the form. The caller skips it in this app's
 * older files, where the key held the samplers' s_noise.
 */
export function readNoiseMultiplier(values: Record<string, string>, request: Partial<GenerateRequestInput>, notes: string[]): void {
  const text = values['Noise multiplier'];
  if (text === undefined) return;
  const multiplier = number(text);
  if (multiplier !== undefined && multiplier >= 0 && multiplier <= 1.5) request.img2imgNoiseMultiplier = multiplier;
  else notes.push(`"Noise multiplier: ${text.trim().slice(0, 40)}" is not an img2img noise multiplier from 0 to 1.5; ignored`);
}

/**
 * A1111 writes "Hires schedule type" where the second pass's schedule label differs from the first pass's "Schedule
 * type" (absent for DDIM, which keeps its own grid); here only where the request sets one, so older PNGs stay the same.
 */
export function hiresScheduleLabel(request: GenerateRequest): string | undefined {
  const schedule = request.hires?.schedule;
  const hiresSampler = (request.hires?.sampler ?? request.sampler) as SamplerName;
  if (!schedule || SAMPLERS[hiresSampler].forcedSchedule) return undefined;
  const first = SAMPLERS[request.sampler as SamplerName].forcedSchedule ? undefined : SCHEDULE_LABELS[request.schedule];
  return SCHEDULE_LABELS[schedule] !== first ? SCHEDULE_LABELS[schedule] : undefined;
}

/** "Hires schedule type" back: a label, or A1111's "Automatic" (the hires sampler's default schedule). */
function readHiresSchedule(label: string, hires: NonNullable<GenerateRequestInput['hires']>, sampler: string | undefined, notes: string[]) {
  const key = label.toLowerCase();
  const hiresSampler = (hires.sampler ?? sampler) as SamplerName | undefined;
  if (key === 'automatic') hires.schedule = hiresSampler ? AUTOMATIC_SCHEDULE[hiresSampler] : 'normal';
  else if (SCHEDULE_BY_LABEL.has(key)) hires.schedule = SCHEDULE_BY_LABEL.get(key);
  else notes.push(`hires schedule type "${label}" is not available here; the second pass uses the first pass's schedule`);
}

const UPSCALER_BY_LABEL = new Map(HIRES_UPSCALERS.map((u) => [HIRES_UPSCALER_LABELS[u].toLowerCase(), u]));
const SAMPLER_BY_LABEL = new Map(Object.entries(SAMPLERS).map(([name, def]) => [def.label.toLowerCase(), name as SamplerName]));

/** A value read as A1111 pastes it, with Python's float() (python-numbers.ts); undefined where that fails or is not finite. */
function number(value: string | undefined): number | undefined {
  const n = value === undefined ? undefined : pythonFloat(value);
  return n !== undefined && Number.isFinite(n) ? n : undefined;
}

/** An A1111 upscaler name to ours: any other latent one to "Latent", its pixel upscalers (ESRGAN...) to Lanczos. */
function upscalerOf(label: string, notes: string[]): HiresUpscaler {
  const known = UPSCALER_BY_LABEL.get(label.toLowerCase());
  if (known) return known;
  const substitute: HiresUpscaler = /^latent/i.test(label) ? 'latent' : 'lanczos';
  notes.push(`hires upscaler "${label}" is not available here; using ${HIRES_UPSCALER_LABELS[substitute]}`);
  return substitute;
}

/** "Hires resize: 1024x1536" as A1111 pastes it (two whole numbers, 0 for a side that keeps the aspect); undefined if off. */
function resizeOf(value: string | undefined, notes: string[]): { width: number; height: number } | undefined {
  if (value === undefined) return undefined;
  const m = /^(\d+)x(\d+)$/.exec(value.trim());
  const size = m ? { width: Number(m[1]), height: Number(m[2]) } : undefined;
  const fits = (v: number) => v === 0 || (v >= LIMITS.minImageSide && v <= LIMITS.imageSide);
  if (size && fits(size.width) && fits(size.height)) return size.width || size.height ? size : undefined;
  notes.push(
    `"Hires resize: ${value}" is not a size this app can resize to (WxH, 0 or ${LIMITS.minImageSide} to ${LIMITS.imageSide}); ignored`,
  );
  return undefined;
}

/** Reads the keys above into form values; the source image itself is not in a PNG (A1111 does not store it). */
export function readImg2imgValues(values: Record<string, string>, request: Partial<GenerateRequestInput>, notes: string[]): void {
  const strength = number(values['Denoising strength']);
  const scale = number(values['Hires upscale']);
  if (scale !== undefined || values['Hires upscaler'] !== undefined || values['Hires resize'] !== undefined) {
    const resize = resizeOf(values['Hires resize'], notes);
    if (scale === undefined && !resize) return;
    const hires: NonNullable<GenerateRequestInput['hires']> = scale === undefined ? {} : { scale };
    if (resize?.width) hires.resizeWidth = resize.width;
    if (resize?.height) hires.resizeHeight = resize.height;
    const steps = number(values['Hires steps']);
    if (steps !== undefined) hires.steps = steps;
    if (strength !== undefined) hires.strength = strength;
    if (values['Hires upscaler']) hires.upscaler = upscalerOf(values['Hires upscaler'].trim(), notes);
    const samplerLabel = values['Hires sampler']?.trim();
    if (samplerLabel) {
      const sampler = SAMPLER_BY_LABEL.get(samplerLabel.toLowerCase());
      if (sampler) hires.sampler = sampler;
      else notes.push(`hires sampler "${samplerLabel}" is not available here; the second pass uses the first pass's sampler`);
    }
    const cfg = number(values['Hires CFG Scale']);
    if (cfg !== undefined && cfg >= 0 && cfg <= LIMITS.cfgScale) hires.cfgScale = cfg;
    else if (values['Hires CFG Scale'] !== undefined)
      notes.push(`"Hires CFG Scale: ${values['Hires CFG Scale']}" is not a CFG scale from 0 to ${LIMITS.cfgScale}; ignored`);
    const scheduleLabel = values['Hires schedule type']?.trim();
    if (scheduleLabel) readHiresSchedule(scheduleLabel, hires, request.sampler, notes);
    for (const [key, field] of [
      ['Hires prompt', 'prompt'],
      ['Hires negative prompt', 'negativePrompt'],
    ] as const) {
      const text = values[key];
      if (text && text.length <= LIMITS.promptChars) hires[field] = text;
      else if (text) notes.push(`the file's "${key}" is over ${LIMITS.promptChars} characters; the second pass uses the prompt's`);
    }
    request.hires = hires;
    return;
  }
  // Without hires keys, a denoising strength is img2img's (the source image must be chosen again).
  if (strength !== undefined) request.strength = strength;
  const mode = values['Resize mode']?.trim();
  if (mode) {
    const found = RESIZE_MODES.find((m) => RESIZE_MODE_LABELS[m].toLowerCase() === mode.toLowerCase());
    if (found) request.resizeMode = found;
    else notes.push(`resize mode "${mode}" is not available here; using Just resize`);
  }
  if (values['Exact steps'] === 'True') request.exactSteps = true;
}
