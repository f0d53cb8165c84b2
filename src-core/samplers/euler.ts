import { axpy, checkSigmas, GuardedDenoiser, toD } from './helpers.ts';
import type { Denoiser, SampleContext } from './types.ts';

/** First-order Euler on the probability-flow ODE: one evaluation per step. */
export async function sampleEuler(model: Denoiser, x: Float64Array, sigmas: readonly number[], ctx: SampleContext): Promise<Float64Array> {
  checkSigmas(sigmas);
  const D = new GuardedDenoiser(model, ctx);
  const totalSteps = sigmas.length - 1;
  // x += dt * d in place, on a copy (the caller's array stays as it was): no allocation per step.
  x = Float64Array.from(x);
  const d = new Float64Array(x.length);
  for (let i = 0; i < totalSteps; i++) {
    const denoised = await D.call(x, sigmas[i]);
    axpy(x, sigmas[i + 1] - sigmas[i], toD(x, sigmas[i], denoised, d), x);
    D.report({ totalSteps, sigma: sigmas[i], sigmaNext: sigmas[i + 1], x, denoised });
  }
  return x;
}

export const eulerEvaluations = (sigmas: readonly number[]): number => sigmas.length - 1;
