import { checkSigmas, eulerStep, GuardedDenoiser } from './helpers.ts';
import type { Denoiser, LinearStep, SampleContext } from './types.ts';
import { churnOf, churnStep, type ChurnOptions } from './churn.ts';

/** First-order Euler on the probability-flow ODE: one evaluation per step; with churn, k-diffusion's sample_euler's. */
export async function sampleEuler(
  model: Denoiser,
  x: Float64Array,
  sigmas: readonly number[],
  ctx: SampleContext,
  options: ChurnOptions = {},
): Promise<Float64Array> {
  checkSigmas(sigmas);
  const churn = churnOf(options, sigmas);
  const D = new GuardedDenoiser(model, ctx);
  const totalSteps = sigmas.length - 1;
  // x += dt * d in place, on a copy (the caller's array stays as it was): no allocation per step.
  x = D.copy(x);
  for (let i = 0; i < totalSteps; i++) {
    const sigmaHat = churnStep(x, sigmas[i], churn, ctx);
    const denoised = await D.call(x, sigmaHat, churn !== undefined); // with churn, the next step draws noise
    eulerStep(x, sigmaHat, denoised, sigmas[i + 1]);
    D.report({ totalSteps, sigma: sigmas[i], sigmaNext: sigmas[i + 1], x, denoised });
  }
  return D.result(x);
}

export const eulerEvaluations = (sigmas: readonly number[]): number => sigmas.length - 1;

/**
 * Euler's steps as LinearSteps; undefined with churn (its noise comes before a step's evaluation, and is drawn at every
 * step even where it adds nothing): such a run takes the sampler's own loop.
 */
export function eulerLinearSteps(sigmas: readonly number[], options: ChurnOptions = {}): LinearStep[] | undefined {
  checkSigmas(sigmas);
  if (churnOf(options, sigmas)) return undefined;
  return sigmas.slice(0, -1).map((sigma, i) => eulerLinearStep(sigma, sigmas[i + 1]));
}

/** One Euler step as a LinearStep: x + (s' - s)(x - D) / s = (s' / s) x + (1 - s' / s) D; `noise` added after it. */
export function eulerLinearStep(sigma: number, sigmaNext: number, noise: readonly number[] = []): LinearStep {
  const ratio = sigmaNext / sigma;
  const ends = { sigma, sigmaNext, estimate: 'denoised' as const };
  return { sigma, x: ratio, point: 0, denoised: 1 - ratio, previous: 0, noise, ends };
}
