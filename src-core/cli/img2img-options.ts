// The generate command's img2img and hires fix options: --init-image, --strength, --resize-mode,
// --exact-steps, --noise-multiplier, --hires-scale, --hires-resize, --hires-steps, --hires-strength, --hires-upscaler, --hires-sampler,
// --hires-cfg, --hires-schedule, --hires-prompt, --hires-negative-prompt.
import { closeSync, readSync, type Stats } from 'node:fs';
import { basename } from 'node:path';
import { GenerateRequestFields, SAMPLER_CHOICES, SCHEDULE_CHOICES, type GenerateRequestInput } from '../contract/generate.ts';
import { HIRES_UPSCALERS, INPUT_IMAGE_LIMITS, RESIZE_MODES } from '../contract/images.ts';
import { checkedNumberOption, choiceOption, ignoredNote, numberOption } from './option-values.ts';
import { NotRegularFileError, openRegularFile } from '../regular-file.ts';

const MEGAPIXELS = INPUT_IMAGE_LIMITS.pixels / 1e6;
export const IMG2IMG_HELP = `  --init-image PATH      img2img: start from this image (PNG, JPEG or WebP; at most ${MEGAPIXELS} megapixels)
  --strength X           img2img denoising strength, 0-1 (default: 0.75): int(steps * X) + 1 of the steps run, as A1111
  --resize-mode MODE     ${RESIZE_MODES.join(' | ')}: how the image is brought to the size (default: just-resize)
  --exact-steps          img2img: run exactly --steps steps whatever the strength (A1111's option)
  --noise-multiplier X   img2img: the noise added to the image times X, 0-1.5 (default: 1; A1111's "Noise multiplier
                         for img2img"; hires fix does not use it)
  --hires-scale X        hires fix: a second pass at X times the size (1 < X <= 4; text to image only)
  --hires-resize WxH     hires fix: a second pass resized to WxH instead (0 for a side keeps the aspect; both set:
                         cropped to that aspect, as A1111's "Resize width/height to"; wins over --hires-scale)
  --hires-steps N        hires fix: the second pass's steps (default: as many as --steps)
  --hires-strength X     hires fix: the second pass's denoising strength (default: 0.7)
  --hires-upscaler NAME  hires fix: A1111's upscalers (default: latent, its "Latent"; none, its "None", is Lanczos too):
                         ${HIRES_UPSCALERS.join(' | ')}
  --hires-sampler NAME   hires fix: the second pass's sampler (default: --sampler)
  --hires-cfg X          hires fix: the second pass's CFG scale, 0-50 (default: --cfg; 1 runs it unguided)
  --hires-schedule NAME  hires fix: the second pass's schedule (default: --schedule; DDIM keeps its own grid):
                         ${SCHEDULE_CHOICES.join(' | ')}
  --hires-prompt TEXT    hires fix: the second pass's own prompt (default: the prompt; its LoRA tags must be the prompt's)
  --hires-negative-prompt TEXT
                         hires fix: the second pass's own negative prompt (default: the negative prompt)
`;

export const IMG2IMG_OPTIONS = {
  'init-image': { type: 'string' },
  strength: { type: 'string' },
  'resize-mode': { type: 'string' },
  'exact-steps': { type: 'boolean' },
  'noise-multiplier': { type: 'string' },
  'hires-scale': { type: 'string' },
  'hires-resize': { type: 'string' },
  'hires-steps': { type: 'string' },
  'hires-strength': { type: 'string' },
  'hires-upscaler': { type: 'string' },
  'hires-sampler': { type: 'string' },
  'hires-cfg': { type: 'string' },
  'hires-schedule': { type: 'string' },
  'hires-prompt': { type: 'string' },
  'hires-negative-prompt': { type: 'string' },
} as const;

type Values = Record<string, string | boolean | undefined>;

/**
 * The request fields these options set (unset ones left out), the init image's path, and a note for img2img options
 * given without --init-image: checked, then ignored (as generate.ts does with sampler options the run does not use).
 */
export function img2imgFromCli(values: Values): { fields: Partial<GenerateRequestInput>; initImagePath?: string; notes: string[] } {
  const fields: Partial<GenerateRequestInput> = {};
  const path = values['init-image'];
  if (typeof path === 'string') {
    // The request names the file only as a label; the bytes are read here and passed beside it.
    fields.initImage = `file:${
      basename(path)
        .replace(/[^A-Za-z0-9_.-]/g, '_')
        .slice(0, 128) || 'image'
    }`;
  }
  const strength = checkedNumberOption(values, 'strength', GenerateRequestFields.shape.strength);
  const resizeMode = choiceOption(values, 'resize-mode', RESIZE_MODES);
  const multiplier = checkedNumberOption(values, 'noise-multiplier', GenerateRequestFields.shape.img2imgNoiseMultiplier);
  const notes: string[] = [];
  const unused = ['strength', 'resize-mode', 'exact-steps', 'noise-multiplier'].filter((n) => values[n] !== undefined);
  if (typeof path !== 'string' && unused.length > 0) {
    notes.push(ignoredNote(unused, 'img2img', 'this run has no --init-image'));
  } else {
    if (strength !== undefined) fields.strength = strength;
    if (resizeMode) fields.resizeMode = resizeMode;
    if (values['exact-steps']) fields.exactSteps = true;
    if (multiplier !== undefined) fields.img2imgNoiseMultiplier = multiplier;
  }
  const scale = numberOption(values, 'hires-scale'),
    resize = hiresResizeOption(values['hires-resize']);
  const hiresOnly = [
    'hires-steps',
    'hires-strength',
    'hires-upscaler',
    'hires-sampler',
    'hires-cfg',
    'hires-schedule',
    'hires-prompt',
    'hires-negative-prompt',
  ].filter((n) => values[n] !== undefined);
  if (scale === undefined && !resize && hiresOnly.length > 0)
    throw new Error(`--${hiresOnly[0]} needs --hires-scale or --hires-resize (hires fix is off without them)`);
  if (scale !== undefined || resize) {
    const hires: NonNullable<GenerateRequestInput['hires']> = scale === undefined ? {} : { scale };
    if (resize) Object.assign(hires, resize);
    const steps = numberOption(values, 'hires-steps'),
      hiresStrength = numberOption(values, 'hires-strength');
    if (steps !== undefined) hires.steps = steps;
    if (hiresStrength !== undefined) hires.strength = hiresStrength;
    const upscaler = choiceOption(values, 'hires-upscaler', HIRES_UPSCALERS),
      sampler = choiceOption(values, 'hires-sampler', SAMPLER_CHOICES);
    if (upscaler) hires.upscaler = upscaler;
    if (sampler) hires.sampler = sampler;
    const cfg = numberOption(values, 'hires-cfg');
    if (cfg !== undefined) hires.cfgScale = cfg;
    const schedule = choiceOption(values, 'hires-schedule', SCHEDULE_CHOICES);
    if (schedule) hires.schedule = schedule;
    // Empty is the prompt's (as A1111); the request's schema checks the length.
    const [prompt, negative] = [values['hires-prompt'], values['hires-negative-prompt']];
    if (typeof prompt === 'string' && prompt !== '') hires.prompt = prompt;
    if (typeof negative === 'string' && negative !== '') hires.negativePrompt = negative;
    fields.hires = hires;
  }
  return { fields, initImagePath: typeof path === 'string' ? path : undefined, notes };
}

/** --hires-resize WxH as whole numbers (the request's checks give the limits); undefined when absent. */
function hiresResizeOption(value: string | boolean | undefined): { resizeWidth: number; resizeHeight: number } | undefined {
  if (value === undefined) return undefined;
  const m = typeof value === 'string' ? /^(\d+)x(\d+)$/.exec(value.trim()) : null;
  if (!m) throw new Error(`--hires-resize takes WIDTHxHEIGHT in pixels, 0 for a side that keeps the aspect (got ${String(value)})`);
  if (Number(m[1]) === 0 && Number(m[2]) === 0) throw new Error('--hires-resize 0x0 resizes nothing: give a width, a height or both');
  return { resizeWidth: Number(m[1]), resizeHeight: Number(m[2]) };
}

/**
 * The init image's bytes, refused early when missing, not a regular file or over the size limit (its content is
 * checked by the engine). Opened without blocking (a named pipe would wait for a writer) and read up to one byte
 * past the limit, as a size from stat can be 0 for endless devices (/dev/zero).
 */
export function readInitImage(path: string): Uint8Array {
  let fd: number, stat: Stats;
  try {
    ({ fd, stat } = openRegularFile(path, { label: `--init-image ${path}` }));
  } catch (error) {
    if (error instanceof NotRegularFileError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    throw new Error(`--init-image ${path}: ${code === 'ENOENT' ? 'no such file' : (error as Error).message}`);
  }
  try {
    const limit = INPUT_IMAGE_LIMITS.bytes;
    const over = (size: string) => new Error(`--init-image ${path} is ${size} MiB; at most ${limit / 2 ** 20} MiB is accepted`);
    if (stat.size > limit) throw over((stat.size / 2 ** 20).toFixed(1));
    const bytes = Buffer.alloc(limit + 1);
    let size = 0;
    for (let n; size < bytes.length && (n = readSync(fd, bytes, size, bytes.length - size, null)) > 0;) size += n;
    if (size > limit) throw over(`over ${limit / 2 ** 20}`);
    return new Uint8Array(bytes.buffer, bytes.byteOffset, size);
  } finally {
    closeSync(fd);
  }
}
