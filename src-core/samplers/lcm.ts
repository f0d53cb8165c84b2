import { addNoise, checkSigmas, GuardedDenoiser } from './helpers.ts';
import { lcmBoundary, type LcmGrid } from '../schedule/lcm-grid.ts';
import type { Denoiser, SampleContext } from './types.ts';

export interface LcmOptions {
  /** The model's LCM timesteps (planSampling sets it): the estimate gets LCM's boundary condition, as in A1111. */
  lcmGrid?: LcmGrid;
}

/**
 * LCM (A1111's "LCM", modules/sd_samplers_lcm.py sample_lcm): each step takes the model's estimate as the latent and,
 * unless the next sigma is 0, noises it afresh to the next sigma: x = D + sigma' z. With lcmGrid the estimate is first
 * given LCM's boundary condition (cSkip x + cOut D), as A1111's LCM denoiser does; the UNet's timesteps on LCM's grid
 * come from the pipeline (the 'lcm' timestep mode).
 */
export async function sampleLcm(
  model: Denoiser,
  x: Float64Array,
  sigmas: readonly number[],
  ctx: SampleContext,
  options: LcmOptions = {},
): Promise<Float64Array> {
  checkSigmas(sigmas);
  const D = new GuardedDenoiser(model, ctx);
  const totalSteps = sigmas.length - 1;
  x = D.copy(x); // updated in place: the caller's array stays as it was
  for (let i = 0; i < totalSteps; i++) {
    const sigma = sigmas[i],
      sigmaNext = sigmas[i + 1];
    const denoised = await D.call(x, sigma, sigmaNext > 0);
    if (options.lcmGrid) {
      const { cSkip, cOut } = lcmBoundary(options.lcmGrid, sigma);
      for (let j = 0; j < x.length; j++) x[j] = cSkip * x[j] + cOut * denoised[j];
    } else x.set(denoised);
    if (sigmaNext > 0) addNoise(x, sigmaNext, ctx);
    D.report({ totalSteps, sigma, sigmaNext, x, denoised });
  }
  return D.result(x);
}

export const lcmEvaluations = (sigmas: readonly number[]): number => sigmas.length - 1;
