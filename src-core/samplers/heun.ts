import { checkSigmas, GuardedDenoiser, heunStep, heunWork } from './helpers.ts';
import type { Denoiser, SampleContext } from './types.ts';

/** Heun's second-order method; the final step into sigma = 0 is Euler, so n steps cost 2n - 1 evaluations. */
export async function sampleHeun(model: Denoiser, x: Float64Array, sigmas: readonly number[], ctx: SampleContext): Promise<Float64Array> {
  checkSigmas(sigmas);
  const D = new GuardedDenoiser(model, ctx);
  const totalSteps = sigmas.length - 1;
  x = D.copy(x); // updated in place: the caller's array stays as it was
  const work = heunWork(D, x.length);
  for (let i = 0; i < totalSteps; i++) {
    const denoised = await heunStep(D, x, sigmas[i], sigmas[i + 1], true, work);
    D.report({ totalSteps, sigma: sigmas[i], sigmaNext: sigmas[i + 1], x, denoised });
  }
  return D.result(x);
}

export function heunEvaluations(sigmas: readonly number[]): number {
  let n = 0;
  for (let i = 0; i + 1 < sigmas.length; i++) n += sigmas[i + 1] === 0 ? 1 : 2;
  return n;
}
