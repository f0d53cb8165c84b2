// The Generate view's img2img source and hires fix settings, and how they join the generation request:
// a source image (uploaded, dropped, pasted, or sent from the gallery) makes the request img2img with its
// denoising strength and resize mode; hires fix (text to image only) adds a second pass.
import type { GenerateRequestInput } from '../../../src-core/contract/generate.ts';
import { LIMITS } from '../../../src-core/contract/generate.ts';
import {
  DEFAULT_HIRES_STRENGTH,
  DEFAULT_STRENGTH,
  img2imgSteps,
  type HiresUpscaler,
  type ResizeMode,
} from '../../../src-core/contract/images.ts';
import { hiresGeometry } from '../../../src-core/contract/hires-geometry.ts';
import type { Check, SamplerName, ScheduleName } from './form.ts';

export interface SourceImage {
  /** What the request names (upload:<sha256>.<ext> or gallery:<id>). */
  ref: string;
  /** Where the renderer shows it from (an object URL of the file, or the gallery's URL). */
  url: string;
  name: string;
  width: number;
  height: number;
}

export interface Img2imgForm {
  source: SourceImage | null;
  /** Number inputs give null while empty. */
  strength: number | null;
  resizeMode: ResizeMode;
  exactSteps: boolean;
  /** A1111's "Noise multiplier for img2img": the noise added to the source times this (0 to 1.5; 1 leaves it). */
  noiseMultiplier: number | null;
}

export interface HiresForm {
  enabled: boolean;
  scale: number | null;
  /** A1111's "Resize width/height to": used instead of the scale where a side is over 0 (0 keeps the aspect). */
  resizeWidth: number | null;
  resizeHeight: number | null;
  /** 0: as many as the first pass. */
  steps: number | null;
  strength: number | null;
  upscaler: HiresUpscaler;
  /** '' : the first pass's sampler. */
  sampler: SamplerName | '';
  /** The second pass's CFG scale; empty (null): the first pass's. */
  cfgScale: number | null;
  /** '' : the first pass's schedule. */
  schedule: ScheduleName | '';
  /** The second pass's own prompt and negative prompt; '' : the prompt's (as A1111's Hires prompt). */
  prompt: string;
  negativePrompt: string;
}

export const defaultImg2img = (): Img2imgForm => ({
  source: null,
  strength: DEFAULT_STRENGTH,
  resizeMode: 'just-resize',
  exactSteps: false,
  noiseMultiplier: 1,
});
export const defaultHires = (): HiresForm => ({
  enabled: false,
  scale: 2,
  resizeWidth: 0,
  resizeHeight: 0,
  steps: 0,
  strength: DEFAULT_HIRES_STRENGTH,
  upscaler: 'latent',
  sampler: '',
  cfgScale: null,
  schedule: '',
  prompt: '',
  negativePrompt: '',
});

function strengthError(label: string, v: number | null): string | null {
  if (v === null || v === undefined || Number.isNaN(v)) return `${label} is empty`;
  if (!(v > 0) || v > 1) return `${label} must be above 0 and at most 1`;
  return null;
}

/** "5 of 20 steps run (from sigma …)": how A1111's mapping cuts the schedule for this strength. */
export function stepsRunText(steps: number | null, strength: number | null, exact: boolean): string {
  if (!steps || steps < 1 || strength === null || !(strength > 0) || strength > 1) return '';
  const { scheduleSteps, stepsRun } = img2imgSteps(steps, strength, exact);
  return exact
    ? `${stepsRun} steps run, the last ${stepsRun} of a ${scheduleSteps}-step schedule`
    : `${stepsRun} of ${steps} steps run: int(steps × strength) + 1, as A1111`;
}

/** Whether the form resizes to a size (a side over 0) rather than scaling; A1111 lets the resize win. */
export const hiresResizes = (hires: Pick<HiresForm, 'resizeWidth' | 'resizeHeight'>) => !!(hires.resizeWidth || hires.resizeHeight);

/**
 * The size hires fix makes: int(size × scale), or the resize (its aspect kept, then cropped: A1111's), down to a
 * multiple of the VAE factor; null while a value is missing or out of range.
 */
export function hiresTarget(
  width: number | null,
  height: number | null,
  hires: Pick<HiresForm, 'scale' | 'resizeWidth' | 'resizeHeight'>,
  vaeFactor: number,
): { width: number; height: number } | null {
  if (!width || !height) return null;
  const { scale } = hires;
  if (!hiresResizes(hires) && (!scale || !(scale > 1))) return null;
  const resize = hiresResizes(hires) ? { width: hires.resizeWidth ?? 0, height: hires.resizeHeight ?? 0 } : undefined;
  try {
    return hiresGeometry({ width, height }, resize ? { resize } : { scale: scale! }, vaeFactor).output;
  } catch {
    return null;
  }
}

/** Why the model cannot make hires fix's target size (a side not a multiple of its size multiple), or null. */
export function hiresTargetError(target: { width: number; height: number } | null, sizeMultiple: number): string | null {
  if (!target || !(sizeMultiple > 0) || (target.width % sizeMultiple === 0 && target.height % sizeMultiple === 0)) return null;
  return (
    `Hires fix would make ${target.width}×${target.height} images; this model takes sides in multiples of ${sizeMultiple}: ` +
    'choose another upscale'
  );
}

/** The model's size rules: the VAE factor hires fix rounds its target down to, and the multiple sides must be of. */
export interface SizeRules {
  vaeFactor?: number;
  sizeMultiple?: number;
}

/** The request with the source image and hires fix added, or the first problem with them. */
export function withImg2img(
  checked: Check<GenerateRequestInput>,
  img2img: Img2imgForm,
  hires: HiresForm,
  sizes: SizeRules = {},
): Check<GenerateRequestInput> {
  if (checked.error !== undefined) return checked;
  const request: GenerateRequestInput = { ...checked.value };
  if (img2img.source) {
    const e = strengthError('Denoising strength', img2img.strength);
    if (e) return { error: e };
    request.initImage = img2img.source.ref;
    request.strength = img2img.strength as number;
    if (img2img.resizeMode !== 'just-resize') request.resizeMode = img2img.resizeMode;
    if (img2img.exactSteps) request.exactSteps = true;
    const multiplier = img2img.noiseMultiplier;
    if (multiplier === null || !Number.isFinite(multiplier) || multiplier < 0 || multiplier > 1.5)
      return { error: 'Noise multiplier must be from 0 to 1.5 (1 leaves the noise as drawn)' };
    if (multiplier !== 1) request.img2imgNoiseMultiplier = multiplier;
    return { value: request };
  }
  if (!hires.enabled) return { value: request };
  const scale = hires.scale,
    resizes = hiresResizes(hires);
  for (const [label, side] of [
    ['Hires resize width', hires.resizeWidth],
    ['Hires resize height', hires.resizeHeight],
  ] as const) {
    if (side === null || !Number.isInteger(side) || side < 0 || side > LIMITS.imageSide || (side > 0 && side < LIMITS.minImageSide))
      return { error: `${label} must be 0 (off, or keep the aspect) or a whole number from ${LIMITS.minImageSide} to ${LIMITS.imageSide}` };
  }
  if (!resizes && (scale === null || Number.isNaN(scale) || !(scale > 1) || scale > 4))
    return { error: 'Hires upscale must be above 1 and at most 4' };
  if (hires.steps === null || !Number.isInteger(hires.steps) || hires.steps < 0 || hires.steps > LIMITS.steps)
    return { error: `Hires steps must be a whole number from 0 to ${LIMITS.steps}` };
  const e = strengthError('Hires denoising strength', hires.strength);
  if (e) return { error: e };
  const vaeFactor = sizes.vaeFactor ?? 8;
  const target = hiresTarget(request.width ?? null, request.height ?? null, hires, vaeFactor);
  const targetError = hiresTargetError(target, sizes.sizeMultiple ?? vaeFactor);
  if (targetError) return { error: targetError };
  request.hires = resizes
    ? { resizeWidth: hires.resizeWidth!, resizeHeight: hires.resizeHeight!, strength: hires.strength as number, upscaler: hires.upscaler }
    : { scale: scale!, strength: hires.strength as number, upscaler: hires.upscaler };
  if (hires.steps > 0) request.hires.steps = hires.steps;
  if (hires.sampler) request.hires.sampler = hires.sampler;
  if (hires.schedule) request.hires.schedule = hires.schedule;
  if (hires.prompt) request.hires.prompt = hires.prompt;
  if (hires.negativePrompt) request.hires.negativePrompt = hires.negativePrompt;
  if (hires.cfgScale != null) {
    if (!Number.isFinite(hires.cfgScale) || hires.cfgScale < 0 || hires.cfgScale > LIMITS.cfgScale)
      return { error: `Hires CFG scale must be from 0 to ${LIMITS.cfgScale} (empty: the first pass's)` };
    request.hires.cfgScale = hires.cfgScale;
  }
  return { value: request };
}

/** Form values from a PNG's parameters: its denoising strength and hires fix (the source itself is not in a PNG). */
export function applyImg2imgRequest(
  img2img: Img2imgForm,
  hires: HiresForm,
  request: Partial<GenerateRequestInput>,
): { img2img: Img2imgForm; hires: HiresForm } {
  const nextImg = { ...img2img };
  if (typeof request.strength === 'number') nextImg.strength = request.strength;
  if (request.resizeMode) nextImg.resizeMode = request.resizeMode;
  if (request.exactSteps !== undefined) nextImg.exactSteps = request.exactSteps;
  // A1111 writes its noise multiplier only where it is not 1: absent is 1.
  nextImg.noiseMultiplier = request.img2imgNoiseMultiplier ?? 1;
  const h = request.hires;
  const nextHires: HiresForm = h
    ? {
        enabled: true,
        scale: h.scale ?? hires.scale,
        resizeWidth: h.resizeWidth ?? 0,
        resizeHeight: h.resizeHeight ?? 0,
        steps: h.steps ?? 0,
        strength: h.strength ?? DEFAULT_HIRES_STRENGTH,
        upscaler: h.upscaler ?? 'latent',
        sampler: h.sampler ?? '',
        cfgScale: h.cfgScale ?? null,
        schedule: h.schedule ?? '',
        prompt: h.prompt ?? '',
        negativePrompt: h.negativePrompt ?? '',
      }
    : { ...hires, enabled: false };
  return { img2img: nextImg, hires: nextHires };
}
