// A whole sampling run on the UNet's device (WebGPU): the latent stays there from the first step to the last, and
// each step is one UNet run and one small graph (DeviceLatents) that applies guidance and the sampler's linear step
// (LinearStep). Only the step's scalars go up, with fresh noise where the sampler draws it; the latent comes back
// once at the end, and for a preview. The same cancellation, noise order and non-finite errors as the samplers' own
// loop (samplers/helpers.ts, GuardedDenoiser), but the host does not wait for each step: it queues the next one while
// the device works, and waits only at the checks: the first evaluation (a model that gives NaN says so at once), every
// CHECK_EVERY-th and the last. Progress counts the evaluations checked there, and previews come there (when due), as
// reading the latent back waits for the device too (A1111 shows a live preview every N steps as well).
import type { DiscreteSchedule, TimestepMode } from '../schedule/discrete.ts';
import { linearStepNoise, notFiniteAt } from '../samplers/helpers.ts';
import { SamplerError, SamplingCancelled, type Denoiser, type LinearStep, type SampleContext } from '../samplers/types.ts';
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
  /** Prompt editing: sets `input`'s prompt states for evaluation i of the run (from 0) before its UNet run. */
  promptAt?: (evaluation: number) => void;
}

/**
 * At most this many evaluations are queued ahead of the last check: their progress waits until then, a NaN at one of
 * them is found that much later, and previews come at most this often.
 */
const CHECK_EVERY = 4;

/** The denoiser's onDevice: runs LinearSteps from x on the device and returns the final latent. */
export function deviceRun(options: DeviceRunOptions): NonNullable<Denoiser['onDevice']> {
  const { input, schedule, prediction, scale, timestepMode } = options;
  return async (x, steps, ctx) => {
    if (steps.length === 0) throw new SamplerError('a sampling run needs at least one step');
    const lastDraw = steps.findLastIndex((s) => s.noise.some((std) => std > 0));
    const totalSteps = steps.filter((s) => s.ends).length;
    const latents = options.latents();
    let checked = 0; // evaluations found finite, their progress reported
    let reported = 0; // the sampler's steps reported to onStep's caller (those that ended)
    const check = async (queued: number) => {
      const bad = await latents.firstNotFinite();
      const finite = bad?.step ?? queued;
      for (; checked < finite; checked++) ctx.onEvaluation?.(steps[checked].sigma);
      if (bad) throw notFiniteAt(bad.value, stepOf(steps, bad.step), steps[bad.step].sigma);
    };
    try {
      await latents.start(x, preconditioning(prediction, steps[0].sigma).cIn);
      for (let i = 0; i < steps.length; i++) {
        const step = steps[i];
        if (ctx.signal?.aborted) throw new SamplingCancelled();
        const { cSkip, cOut } = preconditioning(prediction, step.sigma);
        const cInNext = i + 1 < steps.length ? preconditioning(prediction, steps[i + 1].sigma).cIn : 1;
        input.timestep = schedule.sigmaToTimestep(step.sigma, timestepMode);
        options.promptAt?.(i);
        const noise = linearStepNoise(ctx.noise, step.noise, x.length);
        if (noise && i < lastDraw) ctx.noise.prefetch?.(); // the next draw is made while this step runs
        const { x: cx, point, denoised, previous, next } = step;
        await latents.step(input, { scale, cSkip, cOut, x: cx, point, denoised, previous, noise: noise ? 1 : 0, next, cInNext }, noise);
        const checkpoint = i === 0 || (i + 1) % CHECK_EVERY === 0 || i + 1 === steps.length;
        const due = checkpoint && step.ends !== undefined && ctx.onStep !== undefined && (ctx.stepDue?.() ?? true);
        if (checkpoint) await check(i + 1);
        if (ctx.signal?.aborted) throw new SamplingCancelled();
        if (due) await report(latents, step.ends!, reported, totalSteps, ctx.onStep!);
        if (step.ends) reported++;
      }
      return await latents.read('x');
    } finally {
      latents.release();
    }
  };
}

/** The sampler's step that evaluation i belongs to (the steps that end before it), as its own loop counts them. */
const stepOf = (steps: readonly LinearStep[], i: number) => steps.slice(0, i).filter((s) => s.ends).length;

async function report(
  latents: DeviceLatents,
  ends: NonNullable<LinearStep['ends']>,
  index: number,
  totalSteps: number,
  onStep: NonNullable<SampleContext['onStep']>,
) {
  const [x, denoised] = await Promise.all([latents.read('x'), latents.read(ends.estimate)]);
  onStep({ step: index, totalSteps, sigma: ends.sigma, sigmaNext: ends.sigmaNext, x, denoised });
}
