import { addNoise, ancestralStep, checkSigmas, eulerStep, GuardedDenoiser } from './helpers.ts';
import { dpm2AncestralEvaluations } from './dpm2-ancestral.ts';
import { ancestralOptions, type AncestralOptions } from './euler-ancestral.ts';
import type { Denoiser, SampleContext } from './types.ts';

/**
 * DPM++ 2S a (k-diffusion's sample_dpmpp_2s_ancestral): a single-step DPM-Solver++(2S) down to sDown, its second
 * evaluation halfway in log sigma, then fresh noise of std s_noise * sUp (randn_like in A1111: the same noise gives
 * A1111's image). Where sDown is 0 the step is Euler.
 */
export async function sampleDpmpp2sAncestral(
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
  const mid = D.array(x.length);
  for (let i = 0; i < totalSteps; i++) {
    const sigma = sigmas[i],
      sigmaNext = sigmas[i + 1];
    const { sDown, sUp } = ancestralStep(sigma, sigmaNext, eta);
    const denoised = await D.call(x, sigma, sDown === 0 && sNoise * sUp > 0);
    if (sDown === 0) eulerStep(x, sigma, denoised, 0);
    else {
      // In k-diffusion's t = -log(sigma): h = t(sDown) - t(sigma), the midpoint s = t + h / 2.
      const h = Math.log(sigma) - Math.log(sDown);
      const sigmaMid = Math.exp(-(-Math.log(sigma) + h / 2));
      const midRatio = sigmaMid / sigma,
        midWeight = -Math.expm1(-h / 2);
      for (let j = 0; j < x.length; j++) mid[j] = midRatio * x[j] + midWeight * denoised[j];
      const denoisedMid = await D.call(mid, sigmaMid, sNoise * sUp > 0);
      const ratio = sDown / sigma,
        weight = -Math.expm1(-h);
      for (let j = 0; j < x.length; j++) x[j] = ratio * x[j] + weight * denoisedMid[j];
    }
    addNoise(x, sNoise * sUp, ctx); // sUp is 0 into sigma = 0
    D.report({ totalSteps, sigma, sigmaNext, x, denoised });
  }
  return D.result(x);
}

/** Two evaluations a step, one where the step goes down to sDown = 0 (DPM2 a's count). */
export const dpmpp2sAncestralEvaluations = dpm2AncestralEvaluations;
