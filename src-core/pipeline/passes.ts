// What one generate request runs, laid out before anything runs: one pass (text to image, or img2img from
// a source image) or two (hires fix: text to image, then img2img at the larger size). The plan knows every
// pass's size, schedule and evaluations, so the engine can check memory and work caps before queueing.
import { DEFAULT_STRENGTH, img2imgSteps } from '../contract/images.ts';
import { RequestError, type GenerateRequest } from '../contract/generate.ts';
import { decodeInputImage } from '../image/decode.ts';
import { ImageInputError } from '../image/header.ts';
import { fitImage } from '../image/resize.ts';
import type { StableDiffusionModel } from '../model/model.ts';
import { batchNoiseOf, brownianNoiseOf } from '../noise/noise-thread.ts';
import { planBrownianNoise } from '../noise/brownian-noise.ts';
import { sampleLatents, type SamplingPlan } from '../samplers/run.ts';
import { MAX_SCHEDULE_STEPS } from '../schedule/schedules.ts';
import { SamplingCancelled, type Denoiser, type NoiseSampler, type StepInfo } from '../samplers/types.ts';
import type { Timings } from './components.ts';
import { hiresGeometryOf, hiresSettings, upscaleLatents, upscaleThroughPixels, type HiresSettings } from './hires.ts';
import { latentModeOf } from './latent-upscale.ts';
import { cropLatents } from './hires-size.ts';
import type { HiresGeometry } from '../contract/hires-geometry.ts';
import { encodeImage, requireVaeEncoder } from './img2img-encode.ts';
import { planPartialSampling, sampleFromLatent } from './img2img.ts';
import { planFor, samplerOptions, scheduleOptionsFor } from './txt2img.ts';
import { batchSeedResize, batchVariation } from './image-seeds.ts';

export interface PassPlan {
  kind: 'txt2img' | 'img2img' | 'hires';
  width: number;
  height: number;
  plan: SamplingPlan;
  /**
   * The image the VAE encodes in this pass where it is larger than the pass: hires fix through pixels encodes its
   * upscaled image before cropping it to another aspect (request-limits.ts sizes the VAE's memory by it).
   */
  vaeImage?: { width: number; height: number };
}

export interface JobPlan {
  passes: PassPlan[];
  /** Model evaluations per image, all passes together. */
  evaluations: number;
  /** The images' size: the last pass's. */
  output: { width: number; height: number };
  notes: string[];
  img2img?: { strength: number; stepsRun: number; scheduleSteps: number };
  /** Hires fix's settings, its output size (width, height) and where its second pass takes the first (geometry). */
  hires?: HiresSettings & { width: number; height: number; geometry: HiresGeometry };
}

function partial(
  model: StableDiffusionModel,
  request: GenerateRequest,
  sampler: GenerateRequest['sampler'],
  steps: number,
  strength: number,
  exact: boolean,
  hires?: { cfgScale: number; schedule: GenerateRequest['schedule'] },
) {
  // With exact steps (always hires fix's) the schedule is steps / strength long: refused in these terms, not as steps.
  const { scheduleSteps } = img2imgSteps(steps, strength, exact);
  if (scheduleSteps > MAX_SCHEDULE_STEPS) {
    const what = hires ? 'hires fix strength' : 'strength';
    const advice = hires ? 'raise the hires strength or use fewer hires steps' : 'raise the strength, or turn off exact steps';
    throw new RequestError(
      `${what} ${strength} with ${steps} steps needs a schedule of ${scheduleSteps} steps (at most ${MAX_SCHEDULE_STEPS}): ${advice}`,
    );
  }
  try {
    return planPartialSampling(
      model.schedule,
      {
        sampler,
        schedule: hires?.schedule ?? request.schedule,
        steps,
        options: samplerOptions({ ...request, sampler }),
        scheduleOptions: scheduleOptionsFor(model, request),
        guidanceScale: hires?.cfgScale ?? request.cfgScale,
      },
      strength,
      exact,
    );
  } catch (error) {
    throw new RequestError((error as Error).message);
  }
}

/** The passes of a request at its resolved size (resolveSize); throws RequestError for what cannot run. */
export function planJob(model: StableDiffusionModel, request: GenerateRequest, size: { width: number; height: number }): JobPlan {
  if (request.initImage) {
    requireVaeEncoder(model);
    const strength = request.strength ?? DEFAULT_STRENGTH,
      exact = request.exactSteps ?? false;
    const plan = partial(model, request, request.sampler, request.steps, strength, exact);
    const { stepsRun, scheduleSteps } = img2imgSteps(request.steps, strength, exact);
    return {
      passes: [{ kind: 'img2img', ...size, plan }],
      evaluations: plan.evaluations,
      output: size,
      notes: plan.notes,
      img2img: { strength, stepsRun, scheduleSteps },
    };
  }
  const first: PassPlan = { kind: 'txt2img', ...size, plan: planFor(model, request) };
  const hires = hiresSettings(request);
  if (!hires) return { passes: [first], evaluations: first.plan.evaluations, output: size, notes: [] };
  if (!latentModeOf(hires.upscaler)) requireVaeEncoder(model);
  const geometry = hiresGeometryOf(model, size, hires),
    target = geometry.output;
  const second = partial(model, request, hires.sampler, hires.steps, hires.strength, true, hires);
  const { upscale } = geometry;
  const encodesLarger = !latentModeOf(hires.upscaler) && upscale.width * upscale.height > target.width * target.height;
  return {
    passes: [first, { kind: 'hires', ...target, plan: second, ...(encodesLarger ? { vaeImage: upscale } : {}) }],
    evaluations: first.plan.evaluations + second.evaluations,
    output: target,
    notes: second.notes,
    hires: { ...hires, ...target, geometry },
  };
}

/** img2img's source: decoded, brought to the size by the request's resize mode, encoded (one image's latent). */
export async function encodeSource(
  model: StableDiffusionModel,
  request: GenerateRequest,
  bytes: Uint8Array | undefined,
  size: { width: number; height: number },
  timings: Timings,
): Promise<{ latent: Float64Array; notes: string[] }> {
  if (!bytes) throw new RequestError(`the init image ${request.initImage} did not reach the engine`);
  let decoded;
  try {
    decoded = await decodeInputImage(bytes);
  } catch (error) {
    if (error instanceof ImageInputError) throw new RequestError(`the init image cannot be used: ${error.message}`);
    throw error;
  }
  const image = fitImage(decoded, size.width, size.height, request.resizeMode ?? 'just-resize');
  return { latent: await encodeImage(model, image, timings), notes: decoded.notes };
}

export interface BatchRun {
  seeds: number[];
  /** Each image's variation seed where the request varies its first noise (image-seeds.ts batchSeeds). */
  variationSeeds?: number[];
  /** The guided denoiser for one pass (its latent size and this batch). */
  denoiserAt: (pass: PassPlan) => Denoiser;
  /** img2img's encoded source (one image's latent). */
  source?: Float64Array;
  /** The first pass's noise for these seeds (startNoise), its first draw perhaps made ahead. */
  startNoise?: NoiseSampler;
  signal?: AbortSignal;
  onStep?: (info: StepInfo, pass: PassPlan) => void;
  /** Whether onStep wants the next step (SampleContext.stepDue). */
  stepDue?: () => boolean;
  /** After each model evaluation (all passes). */
  onEvaluation?: (sigma: number) => void;
  timings: Timings;
}

const latentShape = (model: StableDiffusionModel, pass: PassPlan) =>
  [model.info.latentChannels, pass.height / model.info.vaeFactor, pass.width / model.info.vaeFactor] as const;

const latentCells = (model: StableDiffusionModel, pass: PassPlan) => latentShape(model, pass).reduce((a, b) => a * b);

// Every pass starts a fresh stream per image: A1111 draws the second pass's noise from a new generator of the same seed,
// and varies its first draw by the variation seeds again (a new ImageRNG). The streams are drawn in the engine's noise
// thread where it runs (noise/noise-thread.ts), ahead, while the UNet runs.
// "Seed resize from" too: A1111's hires fix and img2img make their ImageRNG with it, so every pass's first draw is resized.
const noiseFor = (model: StableDiffusionModel, request: GenerateRequest, pass: PassPlan, seeds: number[], variationSeeds?: number[]) => {
  const shape = latentShape(model, pass);
  const variation = batchVariation(request, variationSeeds, shape);
  const resize = batchSeedResize(request, model.info.vaeFactor, shape);
  return batchNoiseOf(request.noiseSource, seeds, latentCells(model, pass), { variation, resize, seedDelta: request.etaNoiseSeedDelta });
};

/**
 * The noise of a job's first pass for a batch's seeds, for sampleJobBatch's BatchRun.startNoise: its `prefetch` draws
 * the start latent's noise ahead, in the noise thread while the GPU works (the previous batch's VAE decode, the
 * prompt's encoding).
 */
export function startNoise(
  model: StableDiffusionModel,
  request: GenerateRequest,
  job: JobPlan,
  seeds: number[],
  variationSeeds?: number[],
): NoiseSampler {
  return noiseFor(model, request, job.passes[0], seeds, variationSeeds);
}

/** One batch through every pass of the job: its final sampler-space latents, at the output size. */
export async function sampleJobBatch(
  model: StableDiffusionModel,
  request: GenerateRequest,
  job: JobPlan,
  run: BatchRun,
): Promise<Float64Array> {
  const { latentChannels, vaeFactor } = model.info;
  const cells = (pass: PassPlan) => latentCells(model, pass);
  const context = (pass: PassPlan) => ({
    signal: run.signal,
    onEvaluation: run.onEvaluation,
    onStep: run.onStep && ((info: StepInfo) => run.onStep!(info, pass)),
    stepDue: run.stepDue,
    intervalNoise: planBrownianNoise(pass.plan, request.noiseSource, run.seeds, cells(pass), brownianNoiseOf),
  });
  const [first, second] = job.passes;
  const firstNoise = run.startNoise ?? startNoise(model, request, job, run.seeds, run.variationSeeds);
  // Hires fix: the second pass's first draw (its start noise) is made by the noise thread during the first pass.
  const secondNoise = second ? noiseFor(model, request, second, run.seeds, run.variationSeeds) : undefined;
  secondNoise?.prefetch?.();
  const latents =
    first.kind === 'img2img'
      ? await sampleFromSource(first, run.source)
      : await sampleLatents(first.plan, run.denoiserAt(first), firstNoise, context(first));
  if (!second || !secondNoise) return latents;
  if (run.signal?.aborted) throw new SamplingCancelled();
  const { upscale, crop } = job.hires!.geometry;
  const from = { h: first.height / vaeFactor, w: first.width / vaeFactor },
    to = { h: upscale.height / vaeFactor, w: upscale.width / vaeFactor };
  const latentMode = latentModeOf(job.hires!.upscaler);
  const whole = latentMode
    ? upscaleLatents(latents, { batch: run.seeds.length, channels: latentChannels, ...from }, to, latentMode)
    : await upscaleThroughPixels(model, latents, run.seeds.length, from, upscale, run.timings);
  // A resize to another aspect crops the upscaled latents, as A1111 does after upscaling (hires-size.ts).
  const upscaled = cropLatents(whole, { planes: run.seeds.length * latentChannels, ...to }, crop);
  return sampleFromLatentPass(second, upscaled, secondNoise);

  async function sampleFromSource(pass: PassPlan, source: Float64Array | undefined): Promise<Float64Array> {
    if (!source) throw new RequestError('img2img needs its encoded source image');
    // A1111's img2img noise multiplier is img2img's only: hires fix's second pass (below) keeps its noise as drawn.
    return sampleFromLatentPass(pass, source, firstNoise, request.img2imgNoiseMultiplier);
  }
  function sampleFromLatentPass(pass: PassPlan, source: Float64Array, noise: NoiseSampler, noiseMultiplier = 1): Promise<Float64Array> {
    return sampleFromLatent(pass.plan, run.denoiserAt(pass), noise, source, cells(pass), context(pass), noiseMultiplier);
  }
}
