// From the user's choices (sampler, schedule, steps, guidance) to a concrete run: the sigma
// schedule, the resolved options and the number of model evaluations, known before sampling.
import { DiscreteSchedule } from '../schedule/discrete.ts';
import { lcmGrid, lcmSchedule } from '../schedule/lcm-grid.ts';
import { buildSchedule, type ScheduleName, type ScheduleOptions } from '../schedule/schedules.ts';
import { resolveSampler, type SamplerDefinition, type SamplerOptions } from './index.ts';
import type { Denoiser, NoiseSampler, SampleContext } from './types.ts';

export interface SamplingRequest {
  sampler: string;
  schedule: ScheduleName;
  steps: number;
  options?: SamplerOptions;
  scheduleOptions?: ScheduleOptions;
  /** Used by Restart's "sd" preset, which is keyed by guidance scale. */
  guidanceScale?: number;
}

export interface SamplingPlan {
  sampler: SamplerDefinition;
  options: SamplerOptions;
  sigmas: number[];
  evaluations: number;
  /** The whole schedule a partial run (img2img, hires fix) is cut from; absent where `sigmas` is the whole. */
  fullSchedule?: number[];
}

/**
 * The sigmas a sampler runs on for `steps` steps: the schedule, or DDIM's own grid for DDIM. For DPM2, DPM2 a and
 * DPM++ 3M SDE, A1111 builds the schedule for one step more and drops its next-to-last sigma; so does this, and for
 * every sampler with the options' discardPenultimate (A1111's "Always discard next-to-last sigma").
 */
export function samplerSchedule(
  sampler: SamplerDefinition,
  schedule: ScheduleName,
  model: DiscreteSchedule,
  steps: number,
  options?: ScheduleOptions,
): number[] {
  const name = sampler.forcedSchedule ?? schedule;
  // A1111's LCM denoiser knows only the model's 50 LCM timesteps: its schedules are built on those.
  const table = sampler.lcmTimesteps ? lcmSchedule(model) : model;
  if (!sampler.discardPenultimateSigma && !options?.discardPenultimate) return buildSchedule(name, table, steps, options);
  const sigmas = buildSchedule(name, table, steps + 1, options);
  return [...sigmas.slice(0, -2), sigmas[sigmas.length - 1]];
}

/** The options the sampler runs with: the request's, Restart's guidance scale for its "sd" preset, LCM's grid. */
export function resolvedOptions(
  sampler: SamplerDefinition,
  options: SamplerOptions,
  model: DiscreteSchedule,
  guidanceScale?: number,
): SamplerOptions {
  const withScale =
    options.preset === 'sd' && options.guidance_scale === undefined ? { ...options, guidance_scale: guidanceScale } : options;
  return sampler.lcmTimesteps ? { ...withScale, lcmGrid: lcmGrid(model) } : withScale;
}

export function planSampling(model: DiscreteSchedule, request: SamplingRequest): SamplingPlan {
  const resolved = resolveSampler(request.sampler, request.options);
  const options = resolvedOptions(resolved.sampler, resolved.options, model, request.guidanceScale);
  const sigmas = samplerSchedule(resolved.sampler, request.schedule, model, request.steps, request.scheduleOptions);
  return { sampler: resolved.sampler, options, sigmas, evaluations: resolved.sampler.evaluations(sigmas, options) };
}

/**
 * x = sigma_max * z from each image's stream, then the sampler, which continues the same streams. `noise` is
 * batchNoise(streams, perImage) over one stream per image.
 */
export async function sampleLatents(
  plan: SamplingPlan,
  denoiser: Denoiser,
  noise: NoiseSampler,
  context: Omit<SampleContext, 'noise'> = {},
): Promise<Float64Array> {
  const x = noise();
  for (let i = 0; i < x.length; i++) x[i] *= plan.sigmas[0];
  return runSampler(plan, denoiser, x, { ...context, noise });
}

/** The plan's sampler from x: on the denoiser's device where it has one and the sampler's steps are linear. */
export function runSampler(plan: SamplingPlan, denoiser: Denoiser, x: Float64Array, ctx: SampleContext): Promise<Float64Array> {
  denoiser.beginRun?.();
  const steps = denoiser.onDevice && plan.sampler.linearSteps?.(plan.sigmas, plan.options);
  if (steps) return denoiser.onDevice!(x, steps, ctx);
  return plan.sampler.sample(denoiser, x, plan.sigmas, ctx, plan.options);
}
