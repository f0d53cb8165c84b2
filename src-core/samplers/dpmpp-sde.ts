import { addNoise, ancestralStep, checkSigmas, eulerStep, GuardedDenoiser } from './helpers.ts';
import { heunEvaluations } from './heun.ts';
import { ancestralOptions, type AncestralOptions } from './euler-ancestral.ts';
import type { Denoiser, SampleContext } from './types.ts';

/**
 * DPM++ SDE (k-diffusion's sample_dpmpp_sde, r = 1/2): a stochastic DPM-Solver++ step with a second evaluation halfway
 * in log sigma, each of its two substeps split into a deterministic part and fresh noise as an ancestral step is.
 * The noise is the run's interval noise for each substep (A1111's Brownian tree, noise/brownian-noise.ts) where it has
 * one, else one draw per substep from its noise source.
 */
export async function sampleDpmppSde(
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
  const r = 1 / 2,
    fac = 1 / (2 * r);
  for (let i = 0; i < totalSteps; i++) {
    const sigma = sigmas[i],
      sigmaNext = sigmas[i + 1];
    // k-diffusion's t = -log(sigma): the step's length h in t, the midpoint's sigma at t + r h.
    const logSigma = Math.log(sigma);
    const h = logSigma - Math.log(sigmaNext);
    const sigmaMid = Math.exp(logSigma - r * h);
    const denoised = await D.call(x, sigma, sigmaNext > 0 && sNoise > 0 && [sigma, sigmaMid]);
    if (sigmaNext === 0) eulerStep(x, sigma, denoised, 0);
    else {
      const first = ancestralStep(sigma, sigmaMid, eta);
      const midRatio = first.sDown / sigma,
        midWeight = -Math.expm1(Math.log(first.sDown) - logSigma);
      for (let j = 0; j < x.length; j++) mid[j] = midRatio * x[j] + midWeight * denoised[j];
      addNoise(mid, sNoise * first.sUp, ctx, [sigma, sigmaMid]);
      const denoisedMid = await D.call(mid, sigmaMid, sNoise > 0 && [sigma, sigmaNext]);
      const second = ancestralStep(sigma, sigmaNext, eta);
      const ratio = second.sDown / sigma,
        weight = -Math.expm1(Math.log(second.sDown) - logSigma);
      for (let j = 0; j < x.length; j++) x[j] = ratio * x[j] + weight * ((1 - fac) * denoised[j] + fac * denoisedMid[j]);
      addNoise(x, sNoise * second.sUp, ctx, [sigma, sigmaNext]);
    }
    D.report({ totalSteps, sigma, sigmaNext, x, denoised });
  }
  return D.result(x);
}

/** Two evaluations a step, one into sigma = 0 (Heun's count). */
export const dpmppSdeEvaluations = heunEvaluations;
