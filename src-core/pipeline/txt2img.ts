// Text to image: validate the request, encode the prompts once, sample each batch of images from
// its own seeds, decode, and return PNGs that carry their parameters. Progress is reported per
// model evaluation; cancellation takes effect between model calls (text encoder, UNet, VAE), and
// each finished batch is handed out at once so a cancelled job keeps what it finished.
import { imagesOf, parseGenerateRequest, RequestError, type GenerateRequest, type ProgressCounts } from '../contract/generate.ts';
import { guidedDenoiser } from '../guidance/denoiser.ts';
import type { StableDiffusionModel } from '../model/model.ts';
import { SAMPLERS, type SamplerOptions } from '../samplers/index.ts';
import { planSampling, type SamplingPlan } from '../samplers/run.ts';
import type { ScheduleOptions } from '../schedule/schedules.ts';
import { SamplingCancelled, type Denoiser, type NoiseSampler } from '../samplers/types.ts';
import type { TextConditioning } from '../guidance/unet.ts';
import { promptConditioning } from '../prompt/conditioning.ts';
import { recentEncodings } from '../prompt/recent-encodings.ts';
import { encodingsFor, prepareAdapters } from '../adapters/apply.ts';
import { decodeLatents, newTimings, unetCall, type Timings } from './components.ts';
import { encodeBatch } from './batch-png.ts';
import { InOrder } from './in-order.ts';
import { requestToParameters } from './metadata.ts';
import { jobWork, refuseOverMemory, refuseOverWork } from './request-limits.ts';
import { sizeConditioning } from './size-conditioning.ts';
import { passPromptSteps } from './prompt-steps.ts';
import { composableParts } from '../prompt/composable.ts';
import { latentPreviewMap, previewRgba } from './preview.ts';
import { encodeSource, planJob, sampleJobBatch, startNoise, type PassPlan } from './passes.ts';
import { clipSkipFor, clipSkipOf } from '../model/clip-skip.ts';
import { batchSeeds } from './image-seeds.ts';

export interface GeneratedImage {
  index: number;
  seed: number;
  /** Where the request varies its noise: this image's variation seed (every image then has the request's seed). */
  variationSeed?: number;
  width: number;
  height: number;
  png: Buffer;
  parameters: string;
}

export interface GenerateProgress extends ProgressCounts {
  /** Latent-resolution RGBA preview of the batch's first image, when previews are on. */
  preview?: { width: number; height: number; rgba: Uint8Array };
}

export interface GenerateResult {
  request: GenerateRequest;
  images: GeneratedImage[];
  /** Model evaluations per image (the same for every image). */
  evaluations: number;
  /** What the user should know about this run (prompt tokens a fixed-length UNet could not take). */
  notes: string[];
  /**
   * samplingMs: the sampler loops' wall time (UNet calls included). pngMs: the PNGs' main-thread part (pixels to
   * bytes); their deflating runs in the thread pool alongside the next batch, and pngWaitMs is what the run waited
   * for it at its end (the last batch's, or more where deflating is the slower).
   */
  timings: Timings & { totalMs: number; samplingMs: number; pngMs: number; pngWaitMs: number; overheadMs: number };
}

export interface GenerateHooks {
  onProgress?: (progress: GenerateProgress) => void;
  /** Previews cost a little; they are computed when this is true. */
  previews?: boolean;
  /** Previews come at most this often, in ms (the app: PREVIEW_INTERVAL_MS); by default, one per sampler step. */
  previewIntervalMs?: number;
  signal?: AbortSignal;
  /**
   * Prompt -> text encoding, shared across calls so a grid encodes each prompt once (keys: prompt/conditioning.ts).
   * Without it, the model's recent encodings are used (prompt/recent-encodings.ts).
   */
  encodings?: Map<string, TextConditioning>;
  /** img2img's source image, the file's bytes (PNG, JPEG or WebP), for a request with initImage. */
  initImage?: Uint8Array;
  /**
   * Each batch's images as soon as they are encoded, in order, with the batch's time (sampling and decoding) and the
   * run's notes so far. Encoding runs while the next batch samples, so this comes during that batch's steps.
   */
  onBatch?: (images: GeneratedImage[], batch: { ms: number; evaluations: number; notes: string[] }) => void;
  /** A batch's images are being encoded: `delivered` settles once onBatch has had them (a cancel can wait for it). */
  onEncoding?: (delivered: Promise<void>) => void;
}

function throwIfCancelled(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new SamplingCancelled();
}

/**
 * The request's sampler settings under the samplers' own (k-diffusion) names: the one place where the
 * contract's camelCase (sNoise, sChurn, restartGamma, sMin, sMax) meets s_noise, s_churn, restart_gamma, s_min, s_max. The
 * churn goes only to the samplers that read it (DDIM runs Euler's loop, without it).
 */
export function samplerOptions(request: GenerateRequest): SamplerOptions {
  const options: SamplerOptions = {};
  if (request.eta !== undefined) options.eta = request.eta;
  if (request.sNoise !== undefined) options.s_noise = request.sNoise;
  if (SAMPLERS[request.sampler].reads?.includes('churn')) {
    if (request.sChurn !== undefined) options.s_churn = request.sChurn;
    if (request.sTmin !== undefined) options.s_tmin = request.sTmin;
    if (request.sTmax !== undefined) options.s_tmax = request.sTmax;
  }
  if (request.sampler !== 'restart') return options;
  const restart = request.restart ?? { preset: 'a1111' };
  if ('preset' in restart) return { ...options, preset: restart.preset };
  options.segments = restart.segments;
  if (restart.restartGamma !== undefined) options.restart_gamma = restart.restartGamma;
  if (restart.sMin !== undefined) options.s_min = restart.sMin;
  if (restart.sMax !== undefined) options.s_max = restart.sMax;
  return options;
}

export function resolveSize(model: StableDiffusionModel, request: GenerateRequest): { width: number; height: number } {
  const native = model.info.latentSize * model.info.vaeFactor;
  const width = request.width ?? native,
    height = request.height ?? native;
  for (const [name, value] of [
    ['width', width],
    ['height', height],
  ] as const) {
    if (value % model.info.vaeFactor !== 0) {
      throw new RequestError(`${name} ${value} is not a multiple of ${model.info.vaeFactor}, this model's VAE factor`);
    }
  }
  return { width, height };
}

/** The model facts a schedule reads: Align Your Steps has one table for SDXL and one for the rest. */
/** The model's and the request's schedule options (A1111 applies its sigma range, rho and discard to both passes). */
export const scheduleOptionsFor = (model: StableDiffusionModel, request: GenerateRequest): ScheduleOptions => ({
  sdxl: model.info.sdxl !== undefined,
  sigmaMin: request.scheduleSigmaMin,
  sigmaMax: request.scheduleSigmaMax,
  rho: request.scheduleRho,
  discardPenultimate: request.discardPenultimateSigma,
});

export function planFor(model: StableDiffusionModel, request: GenerateRequest): SamplingPlan {
  try {
    return planSampling(model.schedule, {
      sampler: request.sampler,
      schedule: request.schedule,
      steps: request.steps,
      options: samplerOptions(request),
      scheduleOptions: scheduleOptionsFor(model, request),
      guidanceScale: request.cfgScale,
    });
  } catch (error) {
    throw new RequestError((error as Error).message);
  }
}

export async function generate(baseModel: StableDiffusionModel, input: unknown, hooks: GenerateHooks = {}): Promise<GenerateResult> {
  const t0 = performance.now();
  const parsed = parseGenerateRequest(input);
  // The LoRAs and embeddings the prompt names: a model that carries them, and the prompt without its tags.
  const adapters = await prepareAdapters(baseModel, parsed);
  const model = adapters.model;
  const { width, height } = resolveSize(model, parsed);
  // SDXL's time_ids; other models drop the original size and crop (so their PNGs do not claim them).
  const sized = sizeConditioning(model, parsed, { width, height });
  const { timeIds, notes: sizeNotes } = sized;
  // Clip skip: SD 1.x's; SD 2 and SDXL drop it with a note (so their PNGs do not claim it), as A1111 ignores it there.
  const { request, notes: clipSkipNotes } = clipSkipFor(model, sized.request);
  // One pass, or two with hires fix; img2img's pass starts from the source image (pipeline/passes.ts).
  const job = planJob(model, request, { width, height });
  // The engine refuses before queueing; this also covers the CLI and in-process callers.
  // Hires fix's second pass may have its own guidance scale (an unguided pass runs half the UNet batch).
  const passScale = (pass: PassPlan) => (pass.kind === 'hires' && job.hires ? job.hires.cfgScale : request.cfgScale);
  if (job.passes.every((pass) => passScale(pass) === request.cfgScale)) refuseOverMemory(model, request, job.passes);
  else for (const pass of job.passes) refuseOverMemory(model, { ...request, cfgScale: passScale(pass) }, [pass]);
  // The exact work cap (the schema knows only steps): heun's 2 evaluations a step, restart's extra passes.
  refuseOverWork([jobWork(job.passes, imagesOf(request))], 'images');
  const { latentChannels, vaeFactor, timestepType } = model.info;
  const output = job.output;
  const timings = newTimings();
  let samplingMs = 0,
    pngMs = 0;
  const total = imagesOf(request);

  throwIfCancelled(hooks.signal);
  // A prompt with AND is guided at any scale (A1111 combines every part with the negative prompt's output). The
  // negative prompt is encoded where any pass is guided (hires fix's own CFG scale); a pass at scale 1 leaves it out.
  const guided = job.passes.some((pass) => passScale(pass) !== 1) || composableParts(adapters.prompt) !== undefined;
  const conditioning = promptConditioning(
    model,
    { prompt: adapters.prompt, negativePrompt: request.negativePrompt, emphasis: request.emphasis, guided, clipSkip: clipSkipOf(request) },
    timings,
    hooks.encodings ? encodingsFor(hooks.encodings, adapters.textKey) : recentEncodings(baseModel, adapters.textKey),
    passPromptSteps(request, job),
  );
  // Each batch's start noise is drawn (in the noise thread) while the GPU works: the first's during the prompt's
  // encoding (when the text encoder runs), the next ones' during the previous batch's VAE decode.
  const noiseAhead = (first: number) => {
    const { seeds, variationSeeds } = batchSeeds(request, first);
    const noise = startNoise(model, request, job, seeds, variationSeeds);
    noise.prefetch?.();
    return noise;
  };
  let nextNoise: NoiseSampler | undefined = noiseAhead(0);
  const { cond, uncond, notes: promptNotes, padded: padConds, schedules } = await conditioning;
  const notes = [...adapters.notes, ...promptNotes, ...sizeNotes, ...clipSkipNotes, ...job.notes];
  const previewMap = hooks.previews ? await latentPreviewMap(model) : undefined;
  const unets = new Map(job.passes.map((pass) => [pass, unetCall(model, pass.height / vaeFactor, pass.width / vaeFactor, timings)]));
  // SDXL's time_ids name each pass's own size (hires fix's second pass is larger).
  const passTimeIds = new Map(job.passes.map((pass, i) => [pass, i === 0 ? timeIds : sizeConditioning(model, parsed, pass).timeIds]));
  const source = request.initImage ? await encodeSource(model, request, hooks.initImage, { width, height }, timings) : undefined;
  if (source) notes.push(...source.notes);
  throwIfCancelled(hooks.signal);

  // One denoiser per pass for the whole job (every batch has the same size and prompts): its buffers and the UNet's
  // input tensors carry over from batch to batch instead of being made again (fresh memory costs page faults).
  const denoisers = new Map(
    job.passes.map((pass, p): [PassPlan, Denoiser] => [
      pass,
      guidedDenoiser({
        unet: unets.get(pass)!,
        schedule: model.schedule,
        prediction: model.info.prediction,
        batch: request.batchSize,
        cond,
        uncond,
        scale: passScale(pass),
        timeIds: passTimeIds.get(pass),
        // Integer-timestep exports cannot take fractional timesteps; LCM gives whole ones of its own (as A1111).
        timestepMode: pass.plan.sampler.lcmTimesteps ? 'lcm' : timestepType === 'int64' ? 'nearest' : request.timestepMode,
        // Prompt editing or alternation: this pass's texts (its cond and uncond are their first).
        ...(schedules ? { cond: schedules[p].cond[0], uncond: schedules[p].uncond?.[0], prompts: schedules[p] } : {}),
      }),
    ]),
  );
  const images: GeneratedImage[] = [];
  let lastPreview = -Infinity;
  const previewDue = () => performance.now() - lastPreview >= (hooks.previewIntervalMs ?? 0);
  // Batch k's PNGs are encoded while batch k + 1 samples, and handed out in order.
  const delivery = new InOrder<GeneratedImage[]>();
  const sampleBatch = async (first: number) => {
    const batchStart = performance.now();
    const batch = request.batchSize;
    const { seeds, variationSeeds } = batchSeeds(request, first);
    let evaluation = 0;
    const report = (extra: Partial<GenerateProgress>) =>
      hooks.onProgress?.({
        imagesDone: first, // the earlier batches' (their PNGs may still be encoding)
        images: total,
        batch,
        evaluation,
        evaluations: job.evaluations,
        ...extra,
      });
    const tSampling = performance.now();
    const latents = await sampleJobBatch(model, request, job, {
      seeds,
      variationSeeds,
      startNoise: nextNoise,
      denoiserAt: (pass) => denoisers.get(pass)!,
      source: source?.latent,
      // The samplers check the signal before every evaluation, the first included (it can take long on a large size).
      signal: hooks.signal,
      timings,
      onEvaluation: (sigma) => {
        evaluation++;
        report({ sigma });
      },
      // A run on the device reads its latents back only for a step whose preview is due.
      stepDue: previewMap && previewDue,
      onStep: previewMap
        ? (info, pass) => {
            if (!previewDue()) return;
            lastPreview = performance.now();
            const h = pass.height / vaeFactor,
              w = pass.width / vaeFactor;
            report({
              step: info.step + 1,
              steps: info.totalSteps,
              sigma: info.sigma,
              preview: {
                width: w,
                height: h,
                rgba: previewRgba(previewMap, info.denoised.subarray(0, latentChannels * h * w), latentChannels, h, w),
              },
            });
          }
        : undefined,
    });
    samplingMs += performance.now() - tSampling;
    throwIfCancelled(hooks.signal);
    const { width: outWidth, height: outHeight } = output;
    const last = first + batch >= total;
    const decoding = decodeLatents(model, latents, batch, outHeight / vaeFactor, outWidth / vaeFactor, timings);
    nextNoise = last ? undefined : noiseAhead(first + batch);
    const decoded = await decoding;
    const ms = performance.now() - batchStart;
    const parameters = (seed: number, variationSeed?: number) =>
      requestToParameters(request, {
        seed,
        variationSeed,
        width,
        height,
        model: model.info.name,
        evaluations: job.evaluations,
        padConds,
        ...adapters.facts,
      });
    const pngs = { first, seeds, variationSeeds, width: outWidth, height: outHeight, parameters };
    const encoded = encodeBatch(decoded, pngs, (t) => (pngMs += t), last);
    const delivered = delivery.add(encoded, (finished) => {
      images.push(...finished);
      hooks.onBatch?.(finished, { ms, evaluations: job.evaluations, notes });
    });
    hooks.onEncoding?.(delivered);
  };
  // A1111's batch count x batch size: every batch is full, image k of the job uses seed + k (image-seeds.ts).
  try {
    for (let first = 0; first < total && !delivery.failed; first += request.batchSize) await sampleBatch(first);
  } catch (error) {
    await delivery.drain(); // what finished is handed out first; a failed encoding is the earlier error
    throw error;
  } finally {
    // Sampling is over (the latents and images are copies): the denoisers' workspaces go to the next job.
    for (const denoiser of denoisers.values()) denoiser.release?.();
    for (const unet of unets.values()) unet.release?.();
  }
  const tWait = performance.now();
  await delivery.drain();
  const pngWaitMs = performance.now() - tWait;
  const totalMs = performance.now() - t0;
  return {
    request,
    images,
    evaluations: job.evaluations,
    notes,
    timings: {
      ...timings,
      totalMs,
      samplingMs,
      pngMs,
      pngWaitMs,
      overheadMs: totalMs - timings.textEncoderMs - timings.unetMs - timings.vaeMs,
    },
  };
}
