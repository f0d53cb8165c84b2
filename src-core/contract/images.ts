// Input images (img2img's source): how the app refers to one, the upload request and the limits every
// input is held to. No Node or engine imports: the renderer uses this file too.
import { z } from 'zod';

export const INPUT_IMAGE_LIMITS = {
  /** Largest file accepted (the upload message carries it as base64, within the server's 48 MiB messages). */
  bytes: 32 * 1024 * 1024,
  /** Largest width x height, read from the file's header before anything is decoded. */
  pixels: 40_000_000,
  /** Longest side. */
  side: 16_384,
} as const;

export const INPUT_IMAGE_FORMATS = ['png', 'jpeg', 'webp'] as const;
export type InputImageFormat = (typeof INPUT_IMAGE_FORMATS)[number];

/**
 * Where an init image's bytes are: `upload:<sha256>.<ext>` (sent with image.upload and kept by the app),
 * `gallery:<id>` (an image of the gallery), or `file:<name>` (the command line reads the file itself;
 * the name is only a label).
 */
export const InitImageRefSchema = z.string().regex(/^(upload|gallery|file):[A-Za-z0-9_.-]{1,128}$/, {
  message: 'must be upload:<id>, gallery:<id> or file:<name>',
});

export const ImageUploadSchema = z
  .object({
    base64: z.string().max(Math.ceil(INPUT_IMAGE_LIMITS.bytes / 3) * 4 + 4),
  })
  .strict();

export interface ImageUploadResult {
  ref: string;
  format: InputImageFormat;
  width: number;
  height: number;
}

/** A1111's img2img resize modes: stretch, cover and cut, fit and fill the bands from the edges. */
export const RESIZE_MODES = ['just-resize', 'crop-and-resize', 'resize-and-fill'] as const;
export type ResizeMode = (typeof RESIZE_MODES)[number];
export const RESIZE_MODE_LABELS: Record<ResizeMode, string> = {
  'just-resize': 'Just resize',
  'crop-and-resize': 'Crop and resize',
  'resize-and-fill': 'Resize and fill',
};

/**
 * Hires fix's upscalers: A1111's six latent ones (torch interpolate modes, pipeline/latent-upscale.ts), and Lanczos on
 * the decoded pixels; "None" is A1111's too, where its resize_image also resizes the pixels with Lanczos.
 */
export const HIRES_UPSCALERS = [
  'latent',
  'latent-antialiased',
  'latent-bicubic',
  'latent-bicubic-antialiased',
  'latent-nearest',
  'latent-nearest-exact',
  'lanczos',
  'none',
] as const;
export type HiresUpscaler = (typeof HIRES_UPSCALERS)[number];
export const HIRES_UPSCALER_LABELS: Record<HiresUpscaler, string> = {
  latent: 'Latent',
  'latent-antialiased': 'Latent (antialiased)',
  'latent-bicubic': 'Latent (bicubic)',
  'latent-bicubic-antialiased': 'Latent (bicubic antialiased)',
  'latent-nearest': 'Latent (nearest)',
  'latent-nearest-exact': 'Latent (nearest-exact)',
  lanczos: 'Lanczos',
  none: 'None',
};

/** img2img's default denoising strength, and hires fix's (A1111's defaults). */
export const DEFAULT_STRENGTH = 0.75;
export const DEFAULT_HIRES_STRENGTH = 0.7;

/**
 * How steps and denoising strength map to the schedule, as A1111 does (sd_samplers_common.setup_img2img_steps):
 * a schedule of `steps` sigmas whose last int(steps * strength) + 1 steps run; with `exact`, exactly `steps`
 * steps run, on a schedule of int(steps / strength) (A1111's option to do the slider's number of steps, and
 * always its hires fix second pass). Strength is capped at 0.999, as there.
 */
export function img2imgSteps(steps: number, strength: number, exact = false): { scheduleSteps: number; stepsRun: number } {
  const s = Math.min(strength, 0.999);
  if (exact) return { scheduleSteps: Math.floor(steps / s), stepsRun: steps };
  return { scheduleSteps: steps, stepsRun: Math.floor(s * steps) + 1 };
}
