import { checkSigmas, GuardedDenoiser } from './helpers.ts';
import type { Denoiser, SampleContext } from './types.ts';

/** The order A1111 runs LMS with (k-diffusion's default). */
export const LMS_ORDER = 4;

/**
 * Linear multistep coefficient j at step i: the integral from sigmas[i] to sigmas[i + 1] of the Lagrange basis
 * polynomial that is 1 at sigmas[i - j] and 0 at the other `order` - 1 nodes sigmas[i - k]. k-diffusion integrates it
 * numerically (scipy's quad); it is a polynomial of degree order - 1, so here it is integrated exactly, in
 * u = tau - sigmas[i] (small numbers near the step).
 */
export function lmsCoefficient(order: number, sigmas: readonly number[], i: number, j: number): number {
  if (order - 1 > i) throw new RangeError(`LMS order ${order} is too high for step ${i}`);
  // The numerator's coefficients, lowest power first: the product of (u - a_k) over the other nodes a_k.
  let poly = [1];
  let denominator = 1;
  const aj = sigmas[i - j] - sigmas[i];
  for (let k = 0; k < order; k++) {
    if (k === j) continue;
    const ak = sigmas[i - k] - sigmas[i];
    const next = new Array<number>(poly.length + 1).fill(0);
    for (let m = 0; m < poly.length; m++) {
      next[m + 1] += poly[m];
      next[m] -= ak * poly[m];
    }
    poly = next;
    denominator *= aj - ak;
  }
  const h = sigmas[i + 1] - sigmas[i];
  let integral = 0;
  for (let m = poly.length - 1; m >= 0; m--) integral = integral * h + poly[m] / (m + 1);
  return (integral * h) / denominator;
}

/**
 * LMS (k-diffusion's sample_lms, order 4): linear multistep on the probability-flow ODE, using the slopes
 * d = (x - D) / sigma of the last four steps (fewer at the start). One evaluation a step.
 */
export async function sampleLms(model: Denoiser, x: Float64Array, sigmas: readonly number[], ctx: SampleContext): Promise<Float64Array> {
  checkSigmas(sigmas);
  const D = new GuardedDenoiser(model, ctx);
  const totalSteps = sigmas.length - 1;
  x = D.copy(x); // updated in place: the caller's array stays as it was
  // The slopes of the last LMS_ORDER steps, in a ring: step i's slope is slopes[i % LMS_ORDER].
  const slopes = Array.from({ length: Math.min(LMS_ORDER, totalSteps) }, () => D.array(x.length));
  for (let i = 0; i < totalSteps; i++) {
    const sigma = sigmas[i];
    const denoised = await D.call(x, sigma);
    const slope = slopes[i % slopes.length];
    for (let j = 0; j < x.length; j++) slope[j] = (x[j] - denoised[j]) / sigma;
    const order = Math.min(i + 1, LMS_ORDER);
    for (let back = 0; back < order; back++) {
      const coefficient = lmsCoefficient(order, sigmas, i, back);
      const older = slopes[(i - back) % slopes.length];
      for (let j = 0; j < x.length; j++) x[j] += coefficient * older[j];
    }
    D.report({ totalSteps, sigma, sigmaNext: sigmas[i + 1], x, denoised });
  }
  return D.result(x);
}

export const lmsEvaluations = (sigmas: readonly number[]): number => sigmas.length - 1;
