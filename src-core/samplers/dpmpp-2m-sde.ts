import { addNoise, checkSigmas, GuardedDenoiser } from './helpers.ts';
import { ancestralOptions, type AncestralOptions } from './euler-ancestral.ts';
import type { Denoiser, SampleContext } from './types.ts';

/** How the second-order term is formed: k-diffusion's solver_type ('midpoint' for "DPM++ 2M SDE", 'heun' for "... Heun"). */
export type Dpmpp2mSdeSolver = 'midpoint' | 'heun';

/**
 * DPM++ 2M SDE (k-diffusion's sample_dpmpp_2m_sde, solver_type 'midpoint' as A1111's "DPM++ 2M SDE"): the
 * multistep DPM-Solver++ with the SDE's decay exp(-eta h) and fresh noise of std
 * s_noise * sigma' * sqrt(1 - exp(-2 eta h)) each step; into sigma = 0 the result is the denoised estimate.
 * The noise is the run's interval noise for the step (A1111's Brownian tree, noise/brownian-noise.ts) where it has one,
 * else one draw per step from its noise source. A1111's "DPM++ 2M SDE Heun" is the 'heun' solver.
 */
export async function sampleDpmpp2mSde(
  model: Denoiser,
  x: Float64Array,
  sigmas: readonly number[],
  ctx: SampleContext,
  options: AncestralOptions = {},
  solver: Dpmpp2mSdeSolver = 'midpoint',
): Promise<Float64Array> {
  checkSigmas(sigmas);
  const { eta, sNoise } = ancestralOptions(options);
  const D = new GuardedDenoiser(model, ctx);
  const totalSteps = sigmas.length - 1;
  x = D.copy(x); // updated in place: the caller's array stays as it was
  let previous: Float64Array | undefined;
  let hLast = 0;
  for (let i = 0; i < totalSteps; i++) {
    const sigma = sigmas[i],
      sigmaNext = sigmas[i + 1];
    const noiseStd = sigmaNext > 0 ? sNoise * sigmaNext * Math.sqrt(-Math.expm1(-2 * eta * (Math.log(sigma) - Math.log(sigmaNext)))) : 0;
    const denoised = await D.call(x, sigma, noiseStd > 0 && [sigma, sigmaNext]);
    if (sigmaNext === 0) x.set(denoised);
    else {
      const h = Math.log(sigma) - Math.log(sigmaNext);
      const etaH = eta * h;
      const ratio = (sigmaNext / sigma) * Math.exp(-etaH),
        weight = -Math.expm1(-h - etaH);
      // From the second step on, the correction with the previous estimate, (midpoint) weight / 2 or (heun)
      // weight / (-h - eta h) + 1, over r = hLast / h.
      const factor = solver === 'heun' ? weight / (-h - etaH) + 1 : 0.5 * weight;
      const correction = previous ? (factor * h) / hLast : 0;
      for (let j = 0; j < x.length; j++) {
        x[j] = ratio * x[j] + weight * denoised[j] + (previous ? correction * (denoised[j] - previous[j]) : 0);
      }
      addNoise(x, noiseStd, ctx, [sigma, sigmaNext]);
      hLast = h;
    }
    previous = denoised;
    D.report({ totalSteps, sigma, sigmaNext, x, denoised });
  }
  return D.result(x);
}

/** A1111's "DPM++ 2M SDE Heun": the same sampler with k-diffusion's solver_type 'heun'. */
export const sampleDpmpp2mSdeHeun = (
  model: Denoiser,
  x: Float64Array,
  sigmas: readonly number[],
  ctx: SampleContext,
  options: AncestralOptions = {},
): Promise<Float64Array> => sampleDpmpp2mSde(model, x, sigmas, ctx, options, 'heun');

export const dpmpp2mSdeEvaluations = (sigmas: readonly number[]): number => sigmas.length - 1;
