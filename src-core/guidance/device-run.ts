// A whole sampling run as the sampler's LinearSteps, each step one UNet run and one step over the latents
// (DeviceLatents) that applies guidance and the sampler's linear step. On the UNet's device (WebGPU) the latent stays
// there from the first step to the last: only the step's scalars go up, with fresh noise where the sampler draws it;
// the latent comes back once at the end, and for a preview. On the host, each step is one kernel pass over the
// denoiser's workspace (workspace-latents.ts). The same cancellation, noise order and non-finite errors as the samplers'
// own loop (samplers/helpers.ts, GuardedDenoiser), but on a device the host does not wait for each step: it queues the
// next one while the device works, and waits only at the checks: the first evaluation (a model that gives NaN says so
// at once), every CHECK_EVERY-th and the last. Progress counts the evaluations checked there, and previews come there
// (when due), as reading the latent back waits for the device too (A1111 shows a live preview every N steps as well).
// The host checks every evaluation: there it costs nothing.
import type { DiscreteSchedule, TimestepMode } from '../schedule/discrete.ts';
import { nextDraw, notFiniteAt } from '../samplers/helpers.ts';
import { axpy } from '../kernels/latent-kernels.ts';
import { inWorkspace } from '../kernels/kernel-memory.ts';
import {
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
  /** A fresh run's latents for a latent of `length` values; undefined where there are none (the sampler's loop runs). */
  latents: (length: number) => DeviceLatents | undefined;
  /** The UNet's batch (prompt states, rows), its timestep written at each step. */
  input: UNetBatch;
  schedule: DiscreteSchedule;
  prediction: PredictionType;
  scale: number;
  timestepMode: TimestepMode;
}

/**
 * At most this many evaluations are queued ahead of the last check: their progress waits until then, a NaN at one of
 * them is found that much later, and previews come at most this often.
 */
const CHECK_EVERY = 4;

/** The denoiser's runLinear: runs LinearSteps from x on the latents and returns the final latent. */
export function deviceRun(options: DeviceRunOptions): NonNullable<Denoiser['runLinear']> {
  return (x, steps, ctx) => {
    const latents = options.latents(x.length);
    return latents && runSteps(options, latents, x, steps, ctx);
  };
}

async function runSteps(
  options: DeviceRunOptions,
  latents: DeviceLatents,
  x: Float64Array,
  steps: readonly LinearStep[],
  ctx: SampleContext,
): Promise<Float64Array> {
  const { input, schedule, prediction, scale, timestepMode } = options;
  const checkEvery = latents.checkEvery ?? CHECK_EVERY;
  const lastDraw = steps.findLastIndex((s) => s.noise.some((std) => std > 0));
  const totalSteps = steps.filter((s) => s.ends).length;
  let checked = 0; // evaluations found finite, their progress reported
  let reported = 0; // the sampler's steps reported to onStep's caller (those that ended)
  const check = async (queued: number) => {
    const bad = await latents.firstNotFinite();
    const finite = bad?.step ?? queued;
    for (; checked < finite; checked++) ctx.onEvaluation?.(steps[checked].sigma);
    if (bad) throw notFiniteAt(bad.value, stepOf(steps, bad.step), steps[bad.step].sigma);
  };
  try {
    if (steps.length === 0) throw new SamplerError('a sampling run needs at least one step');
    await latents.start(x, preconditioning(prediction, steps[0].sigma).cIn);
    if (lastDraw >= 0) ctx.noise.prefetch?.(); // the first draw, while the first UNet runs
    for (let i = 0; i < steps.length; i++) {
      const step = steps[i];
      if (ctx.signal?.aborted) throw new SamplingCancelled();
      const { cSkip, cOut } = preconditioning(prediction, step.sigma);
      const cInNext = i + 1 < steps.length ? preconditioning(prediction, steps[i + 1].sigma).cIn : 1;
      input.timestep = schedule.sigmaToTimestep(step.sigma, timestepMode);
      const noise = stepNoise(ctx.noise, step.noise, x.length, latents.noiseArray);
      const { x: cx, point, denoised, previous, next } = step;
      const weight = noise?.weight ?? 0;
      await latents.step(input, { scale, cSkip, cOut, x: cx, point, denoised, previous, noise: weight, next, cInNext }, noise?.draw);
      // The next draw is made (in the noise thread) while the next step's UNet runs.
      if (noise && i < lastDraw) ctx.noise.prefetch?.();
      const checkpoint = i === 0 || (i + 1) % checkEvery === 0 || i + 1 === steps.length;
      const due = checkpoint && step.ends !== undefined && ctx.onStep !== undefined && (ctx.stepDue?.() ?? true);
      if (checkpoint) await check(i + 1);
      if (ctx.signal?.aborted) throw new SamplingCancelled();
      if (due) await report(latents, step.ends!, reported, totalSteps, ctx.onStep!);
      if (step.ends) reported++;
    }
    const result = await latents.read('x');
    return inWorkspace(result) ? Float64Array.from(result) : result; // the host's: the denoiser's next run reuses it
  } finally {
    latents.release();
  }
}

/** The sampler's step that evaluation i belongs to (the steps that end before it), as its own loop counts them. */
const stepOf = (steps: readonly LinearStep[], i: number) => steps.slice(0, i).filter((s) => s.ends).length;

/**
 * The step's noise, a draw per std above 0, in order, as `weight` times what `draw` gives: a single draw as it is, with
 * its std (std z, as std z added to nothing), several summed with their stds. Undefined where nothing is drawn. `draw`
 * draws when the latents ask (the host's after the UNet's run, which the noise thread's draw overlaps) into `into`
 * where given, otherwise into an array of its own (a borrowed draw is valid only until the next one).
 */
function stepNoise(
  noise: NoiseSampler,
  stds: readonly number[],
  length: number,
  into?: Float64Array,
): { weight: number; draw: () => Float64Array } | undefined {
  const drawn = stds.filter((std) => std > 0);
  if (drawn.length === 0) return undefined;
  const draw = () => {
    const values = into ?? new Float64Array(length);
    if (drawn.length === 1) return (values.set(nextDraw(noise, length)), values);
    values.fill(0);
    for (const std of drawn) axpy(values, std, nextDraw(noise, length), values);
    return values;
  };
  return { weight: drawn.length === 1 ? drawn[0] : 1, draw };
}

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
