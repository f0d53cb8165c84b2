// SDXL's micro-conditioning, as diffusers' _get_add_time_ids and A1111's get_learned_conditioning build it:
// time_ids = [original height, original width, crop top, crop left, target height, target width], where the
// original and target sizes default to the image size and the crop to (0, 0). The prompt and the negative
// prompt get the same values. Models without a time_ids input take none of this.
import type { GenerateRequest } from '../contract/generate.ts';
import type { StableDiffusionModel } from '../model/model.ts';
import { vaeDecodeNote } from '../model/sdxl.ts';

const FIELDS = ['originalWidth', 'originalHeight', 'cropTop', 'cropLeft'] as const;

export interface SizeConditioning {
  original: { width: number; height: number };
  crop: { top: number; left: number };
  target: { width: number; height: number };
}

/** The request's original size and crop, with their defaults, for an image of `size`. */
export function sizeConditioningOf(
  request: Pick<GenerateRequest, (typeof FIELDS)[number]>,
  size: { width: number; height: number },
): SizeConditioning {
  return {
    original: { width: request.originalWidth ?? size.width, height: request.originalHeight ?? size.height },
    crop: { top: request.cropTop ?? 0, left: request.cropLeft ?? 0 },
    target: { width: size.width, height: size.height },
  };
}

/** One image's six time_ids, in diffusers' order (heights first). */
export function timeIdsOf(c: SizeConditioning): Float32Array {
  return Float32Array.of(c.original.height, c.original.width, c.crop.top, c.crop.left, c.target.height, c.target.width);
}

/**
 * The request as the model takes it: for SDXL its time_ids and what the user should know about its VAE; for
 * other models the original size and crop are dropped (with a note when they were set), so they are not
 * written into the PNGs either.
 */
export function sizeConditioning(
  model: StableDiffusionModel,
  request: GenerateRequest,
  size: { width: number; height: number },
): { request: GenerateRequest; timeIds?: Float32Array; notes: string[] } {
  if (model.info.sdxl) {
    const note = vaeDecodeNote(model.info.vaeDecode);
    return { request, timeIds: timeIdsOf(sizeConditioningOf(request, size)), notes: note ? [note] : [] };
  }
  const set = FIELDS.filter((field) => request[field] !== undefined);
  if (set.length === 0) return { request, notes: [] };
  const stripped = { ...request };
  for (const field of set) delete stripped[field];
  return {
    request: stripped,
    notes: [
      `original size and crop condition SDXL models only; ${model.info.name} ` +
        `takes none, so ${set.join(', ')} ${set.length > 1 ? 'were' : 'was'} ignored`,
    ],
  };
}
