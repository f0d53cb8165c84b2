// A whole sampling run on the UNet's device (WebGPU): the latent stays there from the first step to the last, and
// each step is one UNet run and one small graph (DeviceLatents) that applies guidance and the sampler's linear step
// (LinearStep). Only the step's scalars go up, with fresh noise where the sampler draws it; the latent comes back
// once at the end, and for a preview when one is due. The same cancellation, progress, noise order and non-finite
// check as the samplers' own loop (samplers/helpers.ts, GuardedDenoiser).
import type { DiscreteSchedule, TimestepMode } from '../schedule/discrete.ts';
import { notFiniteAt } from '../samplers/helpers.ts';
import {
  NonFiniteOutput,
  SamplerError,
  SamplingCancelled,
  type Denoiser,
  type LinearStep,
  type NoiseSampler,
  type SampleContext,
} from '../samplers/types.ts';
import { preconditioning } from './preconditioning.ts';
import type { DeviceLatents, PredictionType, UNetBatch } from './unet.ts';

export interface DeviceRunOptions {
  /** A fresh run's device latents. */
  latents: () => DeviceLatents;
  /** The UNet's batch (prompt states, rows), its timestep written at each step. */
  input: UNetBatch;
  schedule: DiscreteSchedule;
  prediction: PredictionType;
  scale: number;
  timestepMode: TimestepMode;
}

/** The denoiser's onDevice: runs LinearSteps from x on the device and returns the final latent. */
export function deviceRun(options: DeviceRunOptions): NonNullable<Denoiser['onDevice']> {
  const { input, schedule, prediction, scale, timestepMode } = options;
  return async (x, steps, ctx) => {
    if (steps.length === 0) throw new SamplerError('a sampling run needs at least one step');
    const later = (i: number) => steps.slice(i + 1).some((s) => s.noise > 0);
    const latents = options.latents();
    try {
      await latents.start(x, preconditioning(prediction, steps[0].sigma).cIn);
      for (let i = 0; i < steps.length; i++) {
        const step = steps[i];
        if (ctx.signal?.aborted) throw new SamplingCancelled();
        const { cSkip, cOut } = preconditioning(prediction, step.sigma);
        const cInNext = i + 1 < steps.length ? preconditioning(prediction, steps[i + 1].sigma).cIn : 1;
        input.timestep = schedule.sigmaToTimestep(step.sigma, timestepMode);
        const noise = step.noise > 0 ? drawNoise(ctx.noise, x.length) : undefined;
        if (noise && later(i)) ctx.noise.prefetch?.(); // the next draw is made while this step runs
        const coefficients = {
          scale,
          cSkip,
          cOut,
          x: step.x,
          denoised: step.denoised,
          previous: step.previous,
          noise: step.noise,
          cInNext,
        };
        const finite = await latents.step(input, coefficients, noise);
        if (ctx.signal?.aborted) throw new SamplingCancelled();
        if (!finite) throw notFiniteAt(new NonFiniteOutput(await latents.read('denoised')), i, step.sigma);
        ctx.onEvaluation?.(step.sigma);
        if (ctx.onStep && (ctx.stepDue?.() ?? true)) await report(latents, step, i, steps.length, ctx.onStep);
      }
      return await latents.read('x');
    } finally {
      latents.release();
    }
  };
}

/** The sampler's next draw, as float32 for the device (a borrowed draw is valid only until the next one). */
function drawNoise(noise: NoiseSampler, length: number): Float32Array {
  const z = noise.borrow?.() ?? noise();
  if (z.length !== length) throw new SamplerError(`noise source returned ${z.length} values for a latent of ${length}`);
  return Float32Array.from(z);
}

async function report(
  latents: DeviceLatents,
  step: LinearStep,
  index: number,
  totalSteps: number,
  onStep: NonNullable<SampleContext['onStep']>,
) {
  const [x, denoised] = await Promise.all([latents.read('x'), latents.read('denoised')]);
  onStep({ step: index, totalSteps, sigma: step.sigma, sigmaNext: step.sigmaNext, x, denoised });
}
