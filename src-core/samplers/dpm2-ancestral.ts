import { addNoise, ancestralStep, checkSigmas, eulerStep, GuardedDenoiser } from './helpers.ts';
import { dpm2Step } from './dpm2.ts';
import { ancestralOptions, type AncestralOptions } from './euler-ancestral.ts';
import type { Denoiser, SampleContext } from './types.ts';

/**
 * DPM2 a (k-diffusion's sample_dpm_2_ancestral): a DPM-Solver-2 step down to sDown, then fresh noise of std
 * s_noise * sUp (torch's randn_like in A1111, so the same noise gives A1111's image). Where sDown is 0 (the last step,
 * or an eta so large that sUp takes all of sigma') the step is Euler and adds no noise, as in k-diffusion.
 */
export async function sampleDpm2Ancestral(
  model: Denoiser,
  x: Float64Array,
  sigmas: readonly number[],
  ctx: SampleContext,
  options: AncestralOptions = {},
): Promise<Float64Array> {
  checkSigmas(sigmas);
  const { eta, sNoise } = ancestralOptions(options);
  const D = new GuardedDenoiser(model, ctx);
  const totalSteps = sigmas.length - 1;
  x = D.copy(x); // updated in place: the caller's array stays as it was
  const work = D.array(x.length);
  for (let i = 0; i < totalSteps; i++) {
    const sigma = sigmas[i],
      sigmaNext = sigmas[i + 1];
    const { sDown, sUp } = ancestralStep(sigma, sigmaNext, eta);
    const denoised = await D.call(x, sigma);
    if (sDown === 0) eulerStep(x, sigma, denoised, 0);
    else {
      await dpm2Step(D, x, denoised, sigma, sDown, work, sNoise * sUp > 0);
      addNoise(x, sNoise * sUp, ctx);
    }
    D.report({ totalSteps, sigma, sigmaNext, x, denoised });
  }
  return D.result(x);
}

/** Two evaluations a step, one where the step goes down to sDown = 0. */
export function dpm2AncestralEvaluations(sigmas: readonly number[], options: AncestralOptions = {}): number {
  const { eta } = ancestralOptions(options);
  let n = 0;
  for (let i = 0; i + 1 < sigmas.length; i++) n += ancestralStep(sigmas[i], sigmas[i + 1], eta).sDown === 0 ? 1 : 2;
  return n;
}
