import { addNoise, ancestralStep, checkSigmas, eulerStep, GuardedDenoiser } from './helpers.ts';
import { eulerLinearStep } from './euler.ts';
import { SamplerError, type Denoiser, type LinearStep, type SampleContext } from './types.ts';

export interface AncestralOptions {
  /** 1 = full ancestral noise, 0 = plain Euler. */
  eta?: number;
  s_noise?: number;
}

/** eta (default 1) and s_noise (default 1), checked: the ancestral and SDE samplers read the same two. */
export function ancestralOptions(options: AncestralOptions): { eta: number; sNoise: number } {
  const eta = options.eta ?? 1;
  const sNoise = options.s_noise ?? 1;
  if (!(eta >= 0) || !(sNoise >= 0)) throw new SamplerError(`eta and s_noise must be >= 0 (got eta ${eta}, s_noise ${sNoise})`);
  return { eta, sNoise };
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
  const { eta, sNoise } = ancestralOptions(options);
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

/** Euler a's steps as LinearSteps: Euler down to sDown, then noise of std s_noise * sUp. */
export function eulerAncestralLinearSteps(sigmas: readonly number[], options: AncestralOptions = {}): LinearStep[] {
  checkSigmas(sigmas);
  const { eta, sNoise } = ancestralOptions(options);
  return sigmas.slice(0, -1).map((sigma, i) => {
    const { sDown, sUp } = ancestralStep(sigma, sigmas[i + 1], eta);
    return { ...eulerLinearStep(sigma, sDown, [sNoise * sUp]), ends: { sigma, sigmaNext: sigmas[i + 1], estimate: 'denoised' } };
  });
}
