import { checkSigmas, eulerStep, GuardedDenoiser } from './helpers.ts';
import type { Denoiser, SampleContext } from './types.ts';

/** First-order Euler on the probability-flow ODE: one evaluation per step. */
export async function sampleEuler(model: Denoiser, x: Float64Array, sigmas: readonly number[], ctx: SampleContext): Promise<Float64Array> {
  checkSigmas(sigmas);
  const D = new GuardedDenoiser(model, ctx);
  const totalSteps = sigmas.length - 1;
  // x += dt * d in place, on a copy (the caller's array stays as it was): no allocation per step.
  x = D.copy(x);
  for (let i = 0; i < totalSteps; i++) {
    const denoised = await D.call(x, sigmas[i]);
    eulerStep(x, sigmas[i], denoised, sigmas[i + 1]);
    D.report({ totalSteps, sigma: sigmas[i], sigmaNext: sigmas[i + 1], x, denoised });
  }
  return D.result(x);
}

export const eulerEvaluations = (sigmas: readonly number[]): number => sigmas.length - 1;
