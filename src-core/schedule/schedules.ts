// Sigma schedules handed to samplers: n sigmas, descending, with a trailing 0 (KL Optimal ends at sigma_min, as A1111's).
import { alignYourStepsSchedule, betaSchedule, klOptimalSchedule } from './a1111-schedules.ts';
import { DiscreteSchedule } from './discrete.ts';
import { exponentialSchedule, polyexponentialSchedule } from './exponential.ts';
import { karrasSchedule, linspace } from './karras.ts';
import { normalRangeSchedule, sgmUniformSchedule, simpleSchedule } from './timestep-spacings.ts';
import { SCHEDULE_CHOICES } from '../contract/generate.ts';

/** The request's schedules (the contract's choices), and DDIM's own grid, which only the DDIM sampler runs on. */
export const SCHEDULE_NAMES = [...SCHEDULE_CHOICES, 'ddim'] as const;
export type ScheduleName = (typeof SCHEDULE_NAMES)[number];

export interface ScheduleOptions {
  /**
   * Defaults to the model's own range (sigma_0 and sigma_{T-1}); every schedule but simple, align_your_steps and ddim
   * reads them (normal then spaces timesteps between theirs, as A1111's Normal).
   */
  sigmaMin?: number;
  sigmaMax?: number;
  /** karras's (default 7) and polyexponential's (default 1, as A1111). */
  rho?: number;
  /** The model is SDXL: Align Your Steps takes NVIDIA's SDXL table (else SD 1.5's). */
  sdxl?: boolean;
  /**
   * A1111's "Always discard next-to-last sigma": build the schedule for one step more and drop its next-to-last sigma,
   * as DPM2, DPM2 a and DPM++ 3M SDE always do (samplers/run.ts samplerSchedule).
   */
  discardPenultimate?: boolean;
}

/** The longest schedule a sampler is given (img2img's exact steps make steps / strength). */
export const MAX_SCHEDULE_STEPS = 10_000;

function checkSteps(steps: number): void {
  if (!Number.isInteger(steps) || steps < 1 || steps > MAX_SCHEDULE_STEPS)
    throw new RangeError(`steps must be a whole number from 1 to ${MAX_SCHEDULE_STEPS} (got ${steps})`);
}

/** "normal"/discrete: timesteps evenly spaced from T-1 down to 0, mapped to sigmas. */
export function normalSchedule(model: DiscreteSchedule, steps: number): number[] {
  checkSteps(steps);
  return [...linspace(model.numTimesteps - 1, 0, steps).map((t) => model.timestepToSigma(t)), 0];
}

/** DDIM's timestep grid: t_k = k * (T // n) + steps_offset, descending, then sigma 0. */
export function ddimSchedule(model: DiscreteSchedule, steps: number): number[] {
  checkSteps(steps);
  const T = model.numTimesteps,
    stride = Math.floor(T / steps);
  if (stride < 1 || (steps - 1) * stride + model.stepsOffset > T - 1) {
    throw new RangeError(`DDIM takes at most ${T - model.stepsOffset} steps with this model (got ${steps})`);
  }
  const ts = Array.from({ length: steps }, (_, k) => k * stride + model.stepsOffset).reverse();
  return [...ts.map((t) => model.sigmas[t]), 0];
}

/** The sigma range a schedule spans: the options' or the model's own. */
function sigmaRange(model: DiscreteSchedule, options: ScheduleOptions): { sigmaMin: number; sigmaMax: number } {
  const sigmaMin = options.sigmaMin ?? model.sigmaMin,
    sigmaMax = options.sigmaMax ?? model.sigmaMax;
  if (!(sigmaMax > sigmaMin)) throw new RangeError(`sigma_max (${sigmaMax}) must be greater than sigma_min (${sigmaMin})`);
  return { sigmaMin, sigmaMax };
}

export function buildSchedule(name: ScheduleName, model: DiscreteSchedule, steps: number, options: ScheduleOptions = {}): number[] {
  if (name !== 'normal' && name !== 'ddim') checkSteps(steps);
  switch (name) {
    case 'karras': {
      const { sigmaMin, sigmaMax } = sigmaRange(model, options);
      return karrasSchedule(steps, sigmaMin, sigmaMax, options.rho ?? 7);
    }
    case 'exponential': {
      const { sigmaMin, sigmaMax } = sigmaRange(model, options);
      return exponentialSchedule(steps, sigmaMin, sigmaMax);
    }
    case 'polyexponential': {
      const { sigmaMin, sigmaMax } = sigmaRange(model, options);
      return polyexponentialSchedule(steps, sigmaMin, sigmaMax, options.rho ?? 1);
    }
    case 'sgm_uniform': {
      const { sigmaMin, sigmaMax } = sigmaRange(model, options);
      return sgmUniformSchedule(model, steps, sigmaMin, sigmaMax);
    }
    case 'simple':
      return simpleSchedule(model, steps);
    case 'kl_optimal': {
      const { sigmaMin, sigmaMax } = sigmaRange(model, options);
      return klOptimalSchedule(steps, sigmaMin, sigmaMax);
    }
    case 'align_your_steps':
      return alignYourStepsSchedule(steps, options.sdxl === true);
    case 'beta': {
      const { sigmaMin, sigmaMax } = sigmaRange(model, options);
      return betaSchedule(steps, sigmaMin, sigmaMax);
    }
    case 'normal':
      if (options.sigmaMin === undefined && options.sigmaMax === undefined) return normalSchedule(model, steps);
      checkSteps(steps);
      return normalRangeSchedule(model, steps, sigmaRange(model, options));
    case 'ddim':
      return ddimSchedule(model, steps);
    default:
      throw new RangeError(`unknown schedule "${String(name)}" (known: ${SCHEDULE_NAMES.join(', ')})`);
  }
}
