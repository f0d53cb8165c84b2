// Karras et al.'s "churn" (Algorithm 2) as k-diffusion's sample_euler, sample_heun and sample_dpm_2 take it, and A1111
// as its "Sigma churn", "Sigma tmin", "Sigma tmax" and "Sigma noise": before a step from a sigma inside [s_tmin, s_tmax],
// the latent gets fresh noise that raises its level to sigma_hat = sigma (1 + gamma), and the step starts from there.
import { nextDraw } from './helpers.ts';
import { SamplerError, type SampleContext } from './types.ts';
import { axpy } from '../kernels/latent-kernels.ts';

export interface ChurnOptions {
  /** The churn, spread over the run: gamma = min(s_churn / steps, sqrt(2) - 1). 0 or absent: off. */
  s_churn?: number;
  /** Churn applies to steps from a sigma with s_tmin <= sigma <= s_tmax (defaults 0 and infinity). */
  s_tmin?: number;
  s_tmax?: number;
  /** The churn noise's multiplier (default 1). */
  s_noise?: number;
}

export interface Churn {
  churn: number;
  tmin: number;
  tmax: number;
  sNoise: number;
  /** The run's number of steps (k-diffusion's len(sigmas) - 1). */
  steps: number;
}

/** The run's churn, checked; undefined where s_churn is 0 (nothing drawn, nothing added: the plain sampler). */
export function churnOf(options: ChurnOptions, sigmas: readonly number[]): Churn | undefined {
  const churn = options.s_churn ?? 0,
    tmin = options.s_tmin ?? 0,
    tmax = options.s_tmax ?? Infinity,
    sNoise = options.s_noise ?? 1;
  if (!(churn >= 0) || churn === Infinity) throw new SamplerError(`s_churn must be a number >= 0 (got ${churn})`);
  if (!(tmin >= 0)) throw new SamplerError(`s_tmin must be >= 0 (got ${tmin})`);
  if (!(tmax > 0)) throw new SamplerError(`s_tmax must be above 0, or absent for no upper limit (got ${tmax})`);
  if (!(sNoise >= 0)) throw new SamplerError(`s_noise must be >= 0 (got ${sNoise})`);
  return churn === 0 ? undefined : { churn, tmin, tmax, sNoise, steps: sigmas.length - 1 };
}

/** k-diffusion's gamma for a step from `sigma`: 0 outside the [tmin, tmax] window. */
export function churnGamma(churn: Churn, sigma: number): number {
  return churn.tmin <= sigma && sigma <= churn.tmax ? Math.min(churn.churn / churn.steps, Math.SQRT2 - 1) : 0;
}

/**
 * Churns x in place before the step from `sigma` and returns sigma_hat, the level the step starts from. As k-diffusion
 * (whose randn_like A1111 turns into the image's noise stream), a draw is taken at every step, also where gamma is 0,
 * so that each step's noise is the same draw of the stream whatever the window.
 */
export function churnStep(x: Float64Array, sigma: number, churn: Churn | undefined, ctx: SampleContext): number {
  if (!churn) return sigma;
  const z = nextDraw(ctx.noise, x.length);
  const gamma = churnGamma(churn, sigma);
  if (!(gamma > 0)) return sigma;
  const sigmaHat = sigma * (gamma + 1);
  axpy(x, churn.sNoise * Math.sqrt(sigmaHat ** 2 - sigma ** 2), z, x);
  return sigmaHat;
}
