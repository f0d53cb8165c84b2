import { addNoise, checkSigmas, GuardedDenoiser } from './helpers.ts';
import { ancestralOptions, type AncestralOptions } from './euler-ancestral.ts';
import type { Denoiser, SampleContext } from './types.ts';

/**
 * DPM++ 3M SDE (k-diffusion's sample_dpmpp_3m_sde): the third-order multistep DPM-Solver++ with the SDE's decay and
 * fresh noise of std s_noise * sigma' * sqrt(1 - exp(-2 eta h)) each step (second order on the second step, first on
 * the first); into sigma = 0 the result is the denoised estimate. A1111 drops the next-to-last sigma of its schedule.
 * The noise is the run's interval noise for the step (A1111's Brownian tree, noise/brownian-noise.ts) where it has one,
 * else one draw per step from its noise source.
 */
export async function sampleDpmpp3mSde(
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
  // The last two estimates (copies: the denoiser's own arrays last only until the call after next) and step lengths.
  let last = D.array(x.length).fill(0),
    beforeLast = D.array(x.length).fill(0);
  let h1: number | undefined, h2: number | undefined;
  for (let i = 0; i < totalSteps; i++) {
    const sigma = sigmas[i],
      sigmaNext = sigmas[i + 1];
    const h = sigmaNext > 0 ? Math.log(sigma) - Math.log(sigmaNext) : Infinity;
    const noiseStd = sigmaNext > 0 ? sNoise * sigmaNext * Math.sqrt(-Math.expm1(-2 * h * eta)) : 0;
    const denoised = await D.call(x, sigma, noiseStd > 0 && [sigma, sigmaNext]);
    if (sigmaNext === 0) x.set(denoised);
    else {
      const hEta = h * (eta + 1);
      const decay = Math.exp(-hEta),
        weight = -Math.expm1(-hEta);
      const phi2 = Math.expm1(-hEta) / hEta + 1;
      // Correction = c0 D + c1 D_1 + c2 D_2, k-diffusion's phi_2 d1 - phi_3 d2 written out per estimate.
      let c0 = 0,
        c1 = 0,
        c2 = 0;
      if (h2 !== undefined && h1 !== undefined) {
        const r0 = h1 / h,
          r1 = h2 / h;
        const phi3 = phi2 / hEta - 0.5;
        // d1_0 = (D - D_1) / r0, d1_1 = (D_1 - D_2) / r1, d1 = d1_0 + (d1_0 - d1_1) r0 / (r0 + r1), d2 = (d1_0 - d1_1) / (r0 + r1).
        const a = phi2 * (1 + r0 / (r0 + r1)) - phi3 / (r0 + r1); // weight of d1_0
        const b = -phi2 * (r0 / (r0 + r1)) + phi3 / (r0 + r1); // weight of d1_1
        c0 = a / r0;
        c1 = -a / r0 + b / r1;
        c2 = -b / r1;
      } else if (h1 !== undefined) {
        c0 = phi2 / (h1 / h);
        c1 = -c0;
      }
      for (let j = 0; j < x.length; j++) {
        x[j] = decay * x[j] + weight * denoised[j] + c0 * denoised[j] + c1 * last[j] + c2 * beforeLast[j];
      }
      addNoise(x, noiseStd, ctx, [sigma, sigmaNext]);
    }
    [last, beforeLast] = [beforeLast, last];
    last.set(denoised);
    [h1, h2] = [h, h1];
    D.report({ totalSteps, sigma, sigmaNext, x, denoised });
  }
  return D.result(x);
}

export const dpmpp3mSdeEvaluations = (sigmas: readonly number[]): number => sigmas.length - 1;
