import { checkSigmas, eulerStep, GuardedDenoiser } from './helpers.ts';
import { heunEvaluations } from './heun.ts';
import type { Denoiser, SampleContext } from './types.ts';
import { churnOf, churnStep, type ChurnOptions } from './churn.ts';

/**
 * DPM-Solver-2's step from sigma to sigmaTo, given D(x, sigma): a half step (in log sigma) to the midpoint
 * sigma_mid = sqrt(sigma sigmaTo), then the full step with the slope found there. Updates x in place; `work` holds the
 * midpoint latent. `noiseNext`: the caller draws noise after this step.
 */
export async function dpm2Step(
  D: GuardedDenoiser,
  x: Float64Array,
  denoised: Float64Array,
  sigma: number,
  sigmaTo: number,
  work: Float64Array,
  noiseNext = false,
): Promise<void> {
  const logSigma = Math.log(sigma);
  const sigmaMid = Math.exp(logSigma + 0.5 * (Math.log(sigmaTo) - logSigma));
  const toMid = (sigmaMid - sigma) / sigma;
  for (let j = 0; j < x.length; j++) work[j] = x[j] + toMid * (x[j] - denoised[j]);
  const denoisedMid = await D.call(work, sigmaMid, noiseNext);
  const dt = sigmaTo - sigma;
  for (let j = 0; j < x.length; j++) x[j] += dt * ((work[j] - denoisedMid[j]) / sigmaMid);
}

/**
 * DPM2 (k-diffusion's sample_dpm_2, its churn included): DPM-Solver-2 steps, Euler into sigma = 0, so n steps cost
 * 2n - 1 evaluations; a step churned up to sigma_hat goes from there. A1111 builds its schedule for one step more and
 * drops the next-to-last sigma (SamplerDefinition.discardPenultimateSigma).
 */
export async function sampleDpm2(
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
  const work = D.array(x.length);
  for (let i = 0; i < totalSteps; i++) {
    const sigma = sigmas[i],
      sigmaNext = sigmas[i + 1];
    const sigmaHat = churnStep(x, sigma, churn, ctx);
    const last = sigmaNext === 0;
    const denoised = await D.call(x, sigmaHat, last && churn !== undefined);
    if (last) eulerStep(x, sigmaHat, denoised, 0);
    else await dpm2Step(D, x, denoised, sigmaHat, sigmaNext, work, churn !== undefined);
    D.report({ totalSteps, sigma, sigmaNext, x, denoised });
  }
  return D.result(x);
}

/** Two evaluations a step, one into sigma = 0 (Heun's count). */
export const dpm2Evaluations = heunEvaluations;
