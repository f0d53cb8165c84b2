// img2img's sampling: the schedule cut where the denoising strength says (A1111's definition, see
// contract/images.ts img2imgSteps), the source latent noised to that sigma with the image's own seeded
// stream, then any sampler on the rest of the schedule. The noise is the stream's first draw, and the
// sampler continues the same stream, so a torch-compatible noise source gives A1111's img2img noise and an
// image does not depend on its batch.
import { img2imgSteps } from '../contract/images.ts';
import { resolveSampler, type SamplerOptions } from '../samplers/index.ts';
import { sdPresetSegments, type RestartSegment } from '../samplers/restart.ts';
import { resolvedOptions, runSampler, samplerSchedule, type SamplingPlan, type SamplingRequest } from '../samplers/run.ts';
import type { Denoiser, NoiseSampler, SampleContext } from '../samplers/types.ts';
import type { DiscreteSchedule } from '../schedule/discrete.ts';

export interface PartialPlan extends SamplingPlan {
  /** The schedule the run is cut from (its length - 1 steps), and the sigma the latent is noised to. */
  scheduleSteps: number;
  /** The whole schedule it is cut from: A1111 spans an SDE sampler's Brownian trees over it (brownian-noise.ts). */
  fullSchedule: number[];
  startSigma: number;
  notes: string[];
}

const formatSigma = (s: number) => (s >= 10 ? s.toFixed(2) : s.toPrecision(3));

/**
 * Restart segments whose t_max lies above the start sigma would noise the image beyond what the strength
 * allows: they are dropped, with a note. The 'sd' preset is expanded to its segments first; the a1111
 * preset places its restarts on the partial schedule itself, as A1111 does.
 */
function restartWithin(options: SamplerOptions, startSigma: number, strength: number, notes: string[]): SamplerOptions {
  if (options.preset === 'a1111') return options;
  const segments: RestartSegment[] = options.preset === 'sd' ? sdPresetSegments(options.guidance_scale ?? NaN) : (options.segments ?? []);
  const kept = segments.filter((segment) => {
    if (segment[3] <= startSigma) return true;
    notes.push(
      `Restart segment [${segment.join(', ')}] reaches sigma ${segment[3]}, above this img2img's ` +
        `start sigma ${formatSigma(startSigma)} (denoising strength ${strength}): dropped`,
    );
    return false;
  });
  if (kept.length === 0 && segments.length > 0) notes.push('no Restart segment is left: the run is plain Heun steps');
  const { preset: _preset, ...rest } = options;
  return { ...rest, segments: kept };
}

/** The partial schedule for img2img (and hires fix's second pass) and its evaluation count, known before any run. */
export function planPartialSampling(schedule: DiscreteSchedule, request: SamplingRequest, strength: number, exact: boolean): PartialPlan {
  const resolved = resolveSampler(request.sampler, request.options);
  let options = resolvedOptions(resolved.sampler, resolved.options, schedule, request.guidanceScale);
  const { scheduleSteps, stepsRun } = img2imgSteps(request.steps, strength, exact);
  const full = samplerSchedule(resolved.sampler, request.schedule, schedule, scheduleSteps, request.scheduleOptions);
  const sigmas = full.slice(full.length - 1 - stepsRun);
  const notes: string[] = [];
  if (request.sampler === 'restart') options = restartWithin(options, sigmas[0], strength, notes);
  return {
    sampler: resolved.sampler,
    options,
    sigmas,
    evaluations: resolved.sampler.evaluations(sigmas, options),
    scheduleSteps,
    fullSchedule: full,
    startSigma: sigmas[0],
    notes,
  };
}

/**
 * x = source + sigma_start * z (z: each image's first draw), then the sampler, which continues the same
 * streams. `noise` is batchNoise(streams, perImage) over one stream per image (its first draw perhaps made ahead).
 * `source` holds either one latent of `perImage` values, used for every image of the batch (img2img), or one per
 * image (hires fix's upscaled first passes). `noiseMultiplier` scales z (A1111's img2img "Noise multiplier", applied
 * to that first draw only: the sampler's later draws are not scaled); hires fix leaves it at 1, as A1111 does.
 */
export async function sampleFromLatent(
  plan: SamplingPlan,
  denoiser: Denoiser,
  noise: NoiseSampler,
  source: Float64Array,
  perImage: number,
  context: Omit<SampleContext, 'noise'> = {},
  noiseMultiplier = 1,
): Promise<Float64Array> {
  const x = noise();
  if (source.length !== perImage && source.length !== x.length) {
    throw new RangeError(`source latent of ${source.length} values for ${x.length / perImage} images of ${perImage}`);
  }
  // A1111 scales the noise first (x *= multiplier), then adds noise * sigma: the same order here.
  if (noiseMultiplier !== 1) for (let i = 0; i < x.length; i++) x[i] *= noiseMultiplier;
  for (let i = 0; i < x.length; i++) x[i] = source[i % source.length] + plan.sigmas[0] * x[i];
  return runSampler(plan, denoiser, x, { ...context, noise });
}
