import { checkSigmas, GuardedDenoiser } from './helpers.ts';
import type { Denoiser, LinearStep, SampleContext } from './types.ts';
import { dpmpp2mUpdate } from '../kernels/latent-kernels.ts';

/**
 * Step i's coefficients: x <- ratio x + weight (a D - b D_prev), with a = 1 + 1 / 2r and b = 1 / 2r from the second
 * step on (the first is first order: no correction); 'final' into sigma = 0.
 */
function dpmpp2mStep(
  sigmas: readonly number[],
  i: number,
): 'final' | { ratio: number; weight: number; correction?: { a: number; b: number } } {
  const sigma = sigmas[i],
    sigmaNext = sigmas[i + 1];
  if (sigmaNext === 0) return 'final';
  const h = Math.log(sigma) - Math.log(sigmaNext);
  const ratio = sigmaNext / sigma;
  const weight = -Math.expm1(-h);
  if (i === 0) return { ratio, weight };
  const r = (Math.log(sigmas[i - 1]) - Math.log(sigma)) / h;
  return { ratio, weight, correction: { a: 1 + 1 / (2 * r), b: 1 / (2 * r) } };
}

/**
 * DPM-Solver++(2M): exact exponential-integrator step in log-sigma, with a second-order correction
 * from the previous denoised estimate. The first step and the step into sigma = 0 are first order.
 */
export async function sampleDpmpp2m(
  model: Denoiser,
  x: Float64Array,
  sigmas: readonly number[],
  ctx: SampleContext,
): Promise<Float64Array> {
  checkSigmas(sigmas);
  const D = new GuardedDenoiser(model, ctx);
  const totalSteps = sigmas.length - 1;
  let previous: Float64Array | undefined;
  x = D.copy(x); // updated in place (each x[j] is read before it is written)
  for (let i = 0; i < totalSteps; i++) {
    const sigma = sigmas[i],
      sigmaNext = sigmas[i + 1];
    const denoised = await D.call(x, sigma);
    const step = dpmpp2mStep(sigmas, i);
    // At sigma' = 0, h is infinite: the update collapses to the denoised estimate.
    if (step === 'final') x.set(denoised);
    else dpmpp2mUpdate(x, denoised, step.ratio, step.weight, previous && step.correction && { previous, ...step.correction });
    previous = denoised;
    D.report({ totalSteps, sigma, sigmaNext, x, denoised });
  }
  return D.result(x);
}

export const dpmpp2mEvaluations = (sigmas: readonly number[]): number => sigmas.length - 1;

/** DPM++ 2M's steps as LinearSteps. */
export function dpmpp2mLinearSteps(sigmas: readonly number[]): LinearStep[] {
  checkSigmas(sigmas);
  return sigmas.slice(0, -1).map((sigma, i) => {
    const base = { sigma, point: 0, noise: [], ends: { sigma, sigmaNext: sigmas[i + 1], estimate: 'denoised' as const } };
    const step = dpmpp2mStep(sigmas, i);
    if (step === 'final') return { ...base, x: 0, denoised: 1, previous: 0 };
    const { a, b } = step.correction ?? { a: 1, b: 0 };
    return { ...base, x: step.ratio, denoised: step.weight * a, previous: -step.weight * b };
  });
}
