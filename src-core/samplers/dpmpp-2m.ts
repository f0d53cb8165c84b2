import { checkSigmas, GuardedDenoiser } from './helpers.ts';
import type { Denoiser, SampleContext } from './types.ts';
import { dpmpp2mUpdate } from '../kernels/latent-kernels.ts';

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
    if (sigmaNext === 0) {
      // h is infinite: the update collapses to the denoised estimate.
      x.set(denoised);
    } else {
      const h = Math.log(sigma) - Math.log(sigmaNext);
      const ratio = sigmaNext / sigma;
      const weight = -Math.expm1(-h);
      if (previous === undefined) {
        dpmpp2mUpdate(x, denoised, ratio, weight);
      } else {
        const r = (Math.log(sigmas[i - 1]) - Math.log(sigma)) / h;
        dpmpp2mUpdate(x, denoised, ratio, weight, { previous, a: 1 + 1 / (2 * r), b: 1 / (2 * r) });
      }
    }
    previous = denoised;
    D.report({ totalSteps, sigma, sigmaNext, x, denoised });
  }
  return D.result(x);
}

export const dpmpp2mEvaluations = (sigmas: readonly number[]): number => sigmas.length - 1;
