import { addNoise, ancestralStep, checkSigmas, eulerStep, GuardedDenoiser } from './helpers.ts';
import { SamplerError, type Denoiser, type SampleContext } from './types.ts';

export interface AncestralOptions {
  /** 1 = full ancestral noise, 0 = plain Euler. */
  eta?: number;
  s_noise?: number;
}

/** Euler ancestral: step down to sDown, then add fresh noise of std sUp (drawn only if it has an effect). */
export async function sampleEulerAncestral(
  model: Denoiser,
  x: Float64Array,
  sigmas: readonly number[],
  ctx: SampleContext,
  options: AncestralOptions = {},
): Promise<Float64Array> {
  checkSigmas(sigmas);
  const eta = options.eta ?? 1;
  const sNoise = options.s_noise ?? 1;
  if (!(eta >= 0) || !(sNoise >= 0)) throw new SamplerError(`eta and s_noise must be >= 0 (got eta ${eta}, s_noise ${sNoise})`);
  const D = new GuardedDenoiser(model, ctx);
  const totalSteps = sigmas.length - 1;
  x = D.copy(x); // stepped and noised in place: the caller's array stays as it was
  for (let i = 0; i < totalSteps; i++) {
    const sigma = sigmas[i],
      sigmaNext = sigmas[i + 1];
    const { sDown, sUp } = ancestralStep(sigma, sigmaNext, eta);
    const denoised = await D.call(x, sigma, sNoise * sUp > 0);
    eulerStep(x, sigma, denoised, sDown);
    addNoise(x, sNoise * sUp, ctx);
    D.report({ totalSteps, sigma, sigmaNext, x, denoised });
  }
  return D.result(x);
}

export const eulerAncestralEvaluations = (sigmas: readonly number[]): number => sigmas.length - 1;
