import { checkSigmas, GuardedDenoiser, heunStep, heunWork } from './helpers.ts';
import type { Denoiser, LinearStep, SampleContext } from './types.ts';
import { eulerLinearStep } from './euler.ts';
import { churnOf, churnStep, type ChurnOptions } from './churn.ts';

/**
 * Heun's second-order method; the final step into sigma = 0 is Euler, so n steps cost 2n - 1 evaluations. With churn,
 * k-diffusion's sample_heun's: a step churned up to sigma_hat goes from there.
 */
export async function sampleHeun(
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
  x = D.copy(x); // updated in place: the caller's array stays as it was
  const work = heunWork(D, x.length);
  for (let i = 0; i < totalSteps; i++) {
    const sigmaHat = churnStep(x, sigmas[i], churn, ctx);
    const denoised = await heunStep(D, x, sigmaHat, sigmas[i + 1], true, work, churn !== undefined);
    D.report({ totalSteps, sigma: sigmas[i], sigmaNext: sigmas[i + 1], x, denoised });
  }
  return D.result(x);
}

export function heunEvaluations(sigmas: readonly number[]): number {
  let n = 0;
  for (let i = 0; i + 1 < sigmas.length; i++) n += sigmas[i + 1] === 0 ? 1 : 2;
  return n;
}

/** Heun's steps as LinearSteps; undefined with churn, as Euler's (eulerLinearSteps): the sampler's own loop runs it. */
export function heunLinearSteps(sigmas: readonly number[], options: ChurnOptions = {}): LinearStep[] | undefined {
  checkSigmas(sigmas);
  if (churnOf(options, sigmas)) return undefined;
  return sigmas.slice(0, -1).flatMap((sigma, i) => heunLinearStep(sigma, sigmas[i + 1], true));
}

/**
 * One Heun step from sigma to sigmaNext as LinearSteps (heunStep's), `noise` added after it: D1 at x, the point moved
 * to Euler's prediction y = x + dt (x - D1) / sigma; D2 at y, then x + dt/2 ((x - D1) / sigma + (y - D2) / sigma').
 * Euler's single step where sigmaNext is 0 or secondOrder is off.
 */
export function heunLinearStep(sigma: number, sigmaNext: number, secondOrder: boolean, noise: readonly number[] = []): LinearStep[] {
  if (sigmaNext === 0 || !secondOrder) return [eulerLinearStep(sigma, sigmaNext, noise)];
  const dt = sigmaNext - sigma;
  const predict = { x: 1 + dt / sigma, point: 0, denoised: -dt / sigma };
  const ends = { sigma, sigmaNext, estimate: 'previous' as const };
  return [
    { sigma, x: 1, point: 0, denoised: 0, previous: 0, noise: [], next: predict },
    {
      sigma: sigmaNext,
      x: 1 + dt / (2 * sigma),
      point: dt / (2 * sigmaNext),
      denoised: -dt / (2 * sigmaNext),
      previous: -dt / (2 * sigma),
      noise,
      ends,
    },
  ];
}
