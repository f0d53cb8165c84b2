// The generation request as the UI, the CLI and the server send it: one zod schema, validated at
// the engine's door. No engine or Node imports here: the renderer uses this file too.
import { z } from 'zod';
import { HIRES_UPSCALERS, InitImageRefSchema, RESIZE_MODES } from './images.ts';

export const SAMPLER_CHOICES = [
  'euler',
  'euler_ancestral',
  'heun',
  'dpmpp_2m',
  'ddim',
  'restart',
  'lms',
  'dpm_2',
  'dpm_2_ancestral',
  'dpmpp_2s_ancestral',
  'dpmpp_sde',
  'dpmpp_2m_sde',
  'dpmpp_3m_sde',
  'dpmpp_2m_sde_heun',
  'lcm',
] as const;
/** Each sampler's name as A1111 writes it in PNG parameters and shows it, which the app's pickers show too. */
export const SAMPLER_LABELS: Readonly<Record<(typeof SAMPLER_CHOICES)[number], string>> = {
  euler: 'Euler',
  euler_ancestral: 'Euler a',
  heun: 'Heun',
  dpmpp_2m: 'DPM++ 2M',
  ddim: 'DDIM',
  restart: 'Restart',
  lms: 'LMS',
  dpm_2: 'DPM2',
  dpm_2_ancestral: 'DPM2 a',
  dpmpp_2s_ancestral: 'DPM++ 2S a',
  dpmpp_sde: 'DPM++ SDE',
  dpmpp_2m_sde: 'DPM++ 2M SDE',
  dpmpp_3m_sde: 'DPM++ 3M SDE',
  dpmpp_2m_sde_heun: 'DPM++ 2M SDE Heun',
  lcm: 'LCM',
};
export const SCHEDULE_CHOICES = [
  'karras',
  'normal',
  'exponential',
  'polyexponential',
  'sgm_uniform',
  'simple',
  'kl_optimal',
  'align_your_steps',
  'beta',
] as const;
export const NOISE_SOURCE_CHOICES = ['default', 'torch-cpu', 'torch-cuda'] as const;
export const PROVIDER_CHOICES = ['auto', 'cpu', 'cuda', 'dml', 'webgpu', 'coreml'] as const;
export const EMPHASIS_CHOICES = ['original', 'no-norm', 'ignore'] as const;

export const LIMITS = {
  promptChars: 20_000,
  /**
   * Chunks of 75 tokens in a prompt (and in its negative prompt). Cross-attention's memory grows with them, and
   * BREAK makes one of six characters: 3,300 of them held 5 GB for a 64x64 image of the built-in model.
   */
  promptChunks: 32,
  steps: 500,
  cfgScale: 50,
  imageSide: 4096,
  /** The smallest width or height (the UI's fields take it from here too). */
  minImageSide: 8,
  count: 100,
  batchSize: 16,
  restartSegments: 8,
  restartPoints: 100,
  restartRepeats: 20,
  /** A1111's Clip skip slider goes to 12 (SD 1's CLIP has 12 layers). */
  clipSkip: 12,
  /** Schedule sigma range and rho (A1111's settings take any float; v-prediction zero-SNR models reach sigma ~4500). */
  scheduleSigma: 10_000,
  scheduleRho: 100,
  /** ENSD: A1111 takes any whole number; a 32-bit one covers every seed it writes (31337 is the one in use). */
  etaNoiseSeedDelta: 4_294_967_295,
  /** Model evaluations of one request: images x evaluations per image, summed over grid cells / sweep points. */
  evaluationsPerRequest: 20_000,
  /** The same times each image's megapixels: what bounds the time of large images (4096x4096 is 16.8). */
  megapixelEvaluationsPerRequest: 10_000,
} as const;

/**
 * The part of the work caps a request alone can show: every sampler makes at least one evaluation
 * per step (the engine checks the exact count, and sums grid cells and sweep points).
 */
export function workIssue(images: number, steps: number, width?: number, height?: number): string | undefined {
  const evaluations = images * steps;
  const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
  if (evaluations > LIMITS.evaluationsPerRequest) {
    return (
      `${images} images x ${steps} steps make at least ${fmt(evaluations)} ` +
      `model evaluations; at most ${fmt(LIMITS.evaluationsPerRequest)} per request`
    );
  }
  if (width === undefined || height === undefined) return undefined;
  const megapixels = (evaluations * width * height) / 1e6;
  if (megapixels > LIMITS.megapixelEvaluationsPerRequest) {
    return (
      `${images} images x ${steps} steps at ${width}x${height} make at least ${fmt(megapixels)} ` +
      `megapixel-evaluations; at most ${fmt(LIMITS.megapixelEvaluationsPerRequest)} per request`
    );
  }
  return undefined;
}

/** Images a request makes: batch count x batch size, as A1111. */
export function imagesOf(request: { count?: number; batchSize?: number }): number {
  return (request.count ?? 1) * (request.batchSize ?? 1);
}

const finite = () => z.number().finite();

export const RestartSegmentSchema = z
  .tuple([
    z.number().int().min(2).max(LIMITS.restartPoints),
    z.number().int().min(1).max(LIMITS.restartRepeats),
    finite().positive(),
    finite().positive(),
  ])
  .refine(([, , tMin, tMax]) => tMax > tMin, { message: 't_max must be greater than t_min' });

export const RestartSettingsSchema = z.union([
  z.object({ preset: z.literal('a1111') }).strict(),
  z.object({ preset: z.literal('sd') }).strict(),
  z
    .object({
      segments: z.array(RestartSegmentSchema).min(1).max(LIMITS.restartSegments),
      restartGamma: finite().min(0).max(1).optional(),
      sMin: finite().min(0).optional(),
      sMax: finite().min(0).optional(),
    })
    .strict(),
]);

/** The generate request's fields, before the whole-request checks (plan.describe picks from it). */
export const GenerateRequestFields = z
  .object({
    prompt: z.string().max(LIMITS.promptChars),
    negativePrompt: z.string().max(LIMITS.promptChars).default(''),
    sampler: z.enum(SAMPLER_CHOICES).default('euler'),
    schedule: z.enum(SCHEDULE_CHOICES).default('karras'),
    /**
     * A1111's schedule settings (its Settings' sigma min, sigma max and rho; PNG "Schedule min sigma", "Schedule max
     * sigma", "Schedule rho"): the sigma range the schedule spans instead of the model's, and Karras's or
     * Polyexponential's rho. Schedules A1111 takes from the model's table alone ignore them (Simple, Align Your Steps).
     */
    scheduleSigmaMin: finite().gt(0).max(LIMITS.scheduleSigma).optional(),
    scheduleSigmaMax: finite().gt(0).max(LIMITS.scheduleSigma).optional(),
    scheduleRho: finite().gt(0).max(LIMITS.scheduleRho).optional(),
    /** A1111's "Always discard next-to-last sigma" (PNG "Discard penultimate sigma: True"), for every sampler. */
    discardPenultimateSigma: z.boolean().optional(),
    steps: z.number().int().min(1).max(LIMITS.steps).default(20),
    cfgScale: finite().min(0).max(LIMITS.cfgScale).default(7),
    seed: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
    /** Batch count, as A1111's: how many batches are made, one after the other. */
    count: z.number().int().min(1).max(LIMITS.count).default(1),
    /** Batch size, as A1111's: images per batch (one UNet call). count x batchSize images in all; image k uses seed + k. */
    batchSize: z.number().int().min(1).max(LIMITS.batchSize).default(1),
    /**
     * A1111's variation seed and strength (its subseed, subseed_strength): each image's first noise is turned that far
     * (slerp) towards the variation seed's. With a strength over 0 every image keeps `seed` and image k uses
     * variationSeed + k, as A1111 does. Strength 0 or absent: off.
     */
    variationSeed: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional(),
    variationStrength: finite().min(0).max(1).optional(),
    /**
     * A1111's "Resize seed from width/height" (seed_resize_from_w/h): each image's first noise is the seed's noise for
     * this size, pasted centred into the image's. Both or neither; 0 (or either side 0) is off, as in A1111.
     */
    seedResizeFromWidth: z.number().int().min(0).max(LIMITS.imageSide).optional(),
    seedResizeFromHeight: z.number().int().min(0).max(LIMITS.imageSide).optional(),
    /**
     * A1111's "Eta noise seed delta" (ENSD; NovelAI's images used 31337): after each image's first noise, the noise its
     * sampler draws (Euler a and the other ancestral samplers) comes from seed + delta's generator. 0 or absent: off.
     */
    etaNoiseSeedDelta: z.number().int().min(0).max(LIMITS.etaNoiseSeedDelta).optional(),
    /** Defaults to the model's native size. */
    width: z.number().int().min(LIMITS.minImageSide).max(LIMITS.imageSide).optional(),
    height: z.number().int().min(LIMITS.minImageSide).max(LIMITS.imageSide).optional(),
    noiseSource: z.enum(NOISE_SOURCE_CHOICES).default('default'),
    eta: finite().min(0).max(10).optional(),
    sNoise: finite().min(0).max(10).optional(),
    /**
     * A1111's "Sigma churn", "Sigma tmin", "Sigma tmax" (k-diffusion's s_churn, s_tmin, s_tmax), read by Euler, Heun and
     * DPM2: noise added before each step from a sigma in [sTmin, sTmax], with sNoise as its multiplier. sChurn 0 or
     * absent: off; sTmin absent: 0; sTmax absent: no upper limit.
     */
    sChurn: finite().min(0).max(100).optional(),
    sTmin: finite().min(0).max(1000).optional(),
    sTmax: finite().positive().max(1000).optional(),
    restart: RestartSettingsSchema.optional(),
    timestepMode: z.enum(['fractional', 'nearest']).default('fractional'),
    /** A1111's emphasis mode: how (word:1.2) weights act on the text encoder's output. */
    emphasis: z.enum(EMPHASIS_CHOICES).default('original'),
    /**
     * A1111's "Clip skip" (SD 1.x): condition on the text encoder's layer `clipSkip` from the end, through its
     * final layer norm. 1 (the default when absent) is the last layer; SD 2 and SDXL ignore it, as A1111 does.
     */
    clipSkip: z.number().int().min(1).max(LIMITS.clipSkip).optional(),
    /**
     * SDXL's size and crop conditioning (time_ids): the size of the image the picture is "cut from" (default: the
     * image size) and the crop's top-left corner (default 0, 0). Other models take no such conditioning.
     */
    originalWidth: z.number().int().min(1).max(LIMITS.imageSide).optional(),
    originalHeight: z.number().int().min(1).max(LIMITS.imageSide).optional(),
    cropTop: z.number().int().min(0).max(LIMITS.imageSide).optional(),
    cropLeft: z.number().int().min(0).max(LIMITS.imageSide).optional(),
    /** img2img: the source image (its bytes travel beside the request, see contract/images.ts). */
    initImage: InitImageRefSchema.optional(),
    /** img2img's denoising strength (default 0.75): how far into the schedule the image is noised. */
    strength: finite().gt(0).max(1).optional(),
    /** How the source image is brought to the size (default just-resize). */
    resizeMode: z.enum(RESIZE_MODES).optional(),
    /** Run exactly `steps` steps whatever the strength (A1111's option); by default int(steps * strength) + 1 run. */
    exactSteps: z.boolean().optional(),
    /**
     * img2img's noise multiplier (A1111's initial_noise_multiplier, "Noise multiplier for img2img"): the noise added to
     * the source image is scaled by it (default 1); hires fix's second pass and text to image do not use it.
     */
    img2imgNoiseMultiplier: finite().min(0).max(1.5).optional(),
    /** Hires fix (text to image only): a second, img2img pass at `scale` times the size, or resized to a size. */
    hires: z
      .object({
        /** Needed unless a resize side is set (which then wins, as in A1111). */
        scale: finite().gt(1).max(4).optional(),
        /** A1111's "Resize width/height to": 0 on one side keeps the aspect; both set crop the overshooting side. */
        resizeWidth: z.number().int().min(0).max(LIMITS.imageSide).optional(),
        resizeHeight: z.number().int().min(0).max(LIMITS.imageSide).optional(),
        /** 0: as many as the first pass. */
        steps: z.number().int().min(0).max(LIMITS.steps).optional(),
        strength: finite().gt(0).max(1).optional(),
        upscaler: z.enum(HIRES_UPSCALERS).optional(),
        /** Defaults to the first pass's sampler. */
        sampler: z.enum(SAMPLER_CHOICES).optional(),
        /** The second pass's guidance scale (A1111's hr_cfg, "Hires CFG Scale"); defaults to cfgScale. 1 is unguided there. */
        cfgScale: finite().min(0).max(LIMITS.cfgScale).optional(),
        /** The second pass's schedule (A1111's hr_scheduler, "Hires schedule type"); defaults to schedule. */
        schedule: z.enum(SCHEDULE_CHOICES).optional(),
        /** The second pass's own prompt and negative prompt (A1111's hr_prompt, hr_negative_prompt); empty: the request's. */
        prompt: z.string().max(LIMITS.promptChars).optional(),
        negativePrompt: z.string().max(LIMITS.promptChars).optional(),
      })
      .strict()
      .optional(),
  })
  .strict();

/** Seed resize: both sides or neither; a side that is on (over 0) is at least the smallest image side. */
function seedResizeIssues(r: { seedResizeFromWidth?: number; seedResizeFromHeight?: number }, ctx: z.RefinementCtx): void {
  const width = r.seedResizeFromWidth,
    height = r.seedResizeFromHeight;
  if ((width === undefined) !== (height === undefined)) {
    const path = width === undefined ? 'seedResizeFromWidth' : 'seedResizeFromHeight';
    ctx.addIssue({ code: 'custom', path: [path], message: 'seed resize needs both a width and a height (0 for off)' });
  }
  for (const [path, side] of [
    ['seedResizeFromWidth', width],
    ['seedResizeFromHeight', height],
  ] as const) {
    if (side !== undefined && side > 0 && side < LIMITS.minImageSide)
      ctx.addIssue({ code: 'custom', path: [path], message: `must be 0 (off) or at least ${LIMITS.minImageSide} pixels (got ${side})` });
  }
}

/** Hires fix needs a scale or a resize side; a resize side that is on (over 0) is at least the smallest image side. */
function hiresResizeIssues(h: { scale?: number; resizeWidth?: number; resizeHeight?: number }, ctx: z.RefinementCtx): void {
  if (h.scale === undefined && !h.resizeWidth && !h.resizeHeight)
    ctx.addIssue({ code: 'custom', path: ['hires'], message: 'hires fix needs an upscale factor (scale) or a size to resize to' });
  for (const side of ['resizeWidth', 'resizeHeight'] as const) {
    const v = h[side];
    if (v !== undefined && v > 0 && v < LIMITS.minImageSide)
      ctx.addIssue({
        code: 'custom',
        path: ['hires', side],
        message: `must be 0 (keep the aspect) or at least ${LIMITS.minImageSide} pixels`,
      });
  }
}

export const GenerateRequestSchema = GenerateRequestFields.superRefine((r, ctx) => {
  const issue = workIssue(imagesOf(r), r.steps, r.width, r.height);
  if (issue) ctx.addIssue({ code: 'custom', path: ['count'], message: issue });
  // Image k uses seed + k: the last image's seed must stay a whole number a double holds exactly.
  const images = imagesOf(r);
  if (r.seed + images - 1 > Number.MAX_SAFE_INTEGER)
    ctx.addIssue({
      code: 'custom',
      path: ['seed'],
      message:
        `seed ${r.seed} with ${images} images would use seeds up to ${BigInt(r.seed) + BigInt(images - 1)}, ` +
        `past ${Number.MAX_SAFE_INTEGER} (2^53 - 1): use a seed of at most ${Number.MAX_SAFE_INTEGER - images + 1}`,
    });
  if (r.variationStrength && r.variationSeed === undefined)
    ctx.addIssue({ code: 'custom', path: ['variationSeed'], message: 'a variation strength over 0 needs a variation seed' });
  if (r.variationStrength && r.variationSeed !== undefined && r.variationSeed > Number.MAX_SAFE_INTEGER - (images - 1))
    ctx.addIssue({
      code: 'custom',
      path: ['variationSeed'],
      message: `variation seed ${r.variationSeed} with ${images} images would pass ${Number.MAX_SAFE_INTEGER} (image k uses it + k)`,
    });
  seedResizeIssues(r, ctx);
  if (r.scheduleSigmaMin !== undefined && r.scheduleSigmaMax !== undefined && !(r.scheduleSigmaMax > r.scheduleSigmaMin))
    ctx.addIssue({
      code: 'custom',
      path: ['scheduleSigmaMax'],
      message: `the schedule's max sigma (${r.scheduleSigmaMax}) must be above its min sigma (${r.scheduleSigmaMin})`,
    });
  if (r.hires) hiresResizeIssues(r.hires, ctx);
  if (r.hires && r.initImage)
    ctx.addIssue({
      code: 'custom',
      path: ['hires'],
      message: 'hires fix is for text to image (as in A1111); for img2img, choose the larger size directly',
    });
});

export type GenerateRequestInput = z.input<typeof GenerateRequestSchema>;
export type GenerateRequest = z.output<typeof GenerateRequestSchema>;
export type RestartSettings = z.output<typeof RestartSettingsSchema>;

const fields = GenerateRequestFields.shape;

/**
 * plan.describe's params: the generate request's sampling fields, each required (no defaults), with
 * the same limits and error texts.
 */
export const PlanRequestSchema = z
  .object({
    sampler: fields.sampler.unwrap(),
    schedule: fields.schedule.unwrap(),
    steps: fields.steps.unwrap(),
    cfgScale: fields.cfgScale.unwrap(),
    restart: fields.restart,
  })
  .strict();

export type PlanRequest = z.output<typeof PlanRequestSchema>;

/** A generate job's progress: the engine's report, the host's event and the clients' job.progress. */
export interface ProgressCounts {
  /** Images finished so far and in total. */
  imagesDone: number;
  images: number;
  /** Images being made together now (a batch shares every evaluation); 1 when absent. */
  batch?: number;
  /** Model evaluations done in the current batch, and how many it makes. */
  evaluation: number;
  evaluations: number;
  step?: number;
  steps?: number;
  sigma?: number;
}

/**
 * Validation errors as one readable line, one part per problem: "steps: Too big: expected number to be <=500".
 * `root` names a problem with the whole object; `most` keeps the first few problems only.
 */
export function describeIssues(error: z.ZodError, root = 'request', most = Infinity): string {
  return error.issues
    .slice(0, most)
    .map((issue) => `${issue.path.length ? issue.path.join('.') : root}: ${issue.message}`)
    .join('; ');
}

export class RequestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RequestError';
  }
}

export function parseGenerateRequest(input: unknown): GenerateRequest {
  const result = GenerateRequestSchema.safeParse(input);
  if (!result.success) throw new RequestError(`invalid request: ${describeIssues(result.error)}`);
  return result.data;
}

/**
 * The generate request a plan describes: the plan's fields, every other field at its default. Planning
 * reads none of the others (no prompt is encoded, no noise drawn), so prompt and seed are placeholders.
 */
export function plannedRequest(plan: PlanRequest): GenerateRequest {
  return parseGenerateRequest({ prompt: '', seed: 0, ...plan });
}
