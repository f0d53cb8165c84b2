// Schedule types AUTOMATIC1111 added in 1.10 (modules/sd_schedulers.py): KL Optimal, Align Your Steps and Beta.
import { betaQuantile } from './beta-distribution.ts';

function checkCount(name: string, n: number): void {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`${name} schedule needs a whole number of steps >= 1 (got ${n})`);
}

/**
 * KL Optimal (Sabour et al. 2024): n + 1 sigmas whose arctan falls evenly from atan(sigmaMax) to atan(sigmaMin). As in
 * A1111 the last sigma is sigmaMin itself, not 0: the run stops at the model's smallest noise level.
 */
export function klOptimalSchedule(n: number, sigmaMin: number, sigmaMax: number): number[] {
  checkCount('KL Optimal', n);
  const alphaMin = Math.atan(sigmaMin),
    alphaMax = Math.atan(sigmaMax);
  return Array.from({ length: n + 1 }, (_, i) => Math.tan((i / n) * alphaMin + (1 - i / n) * alphaMax));
}

/** numpy.linspace(start, stop, n): start + i * step, the last value exactly stop. */
function numpyLinspace(start: number, stop: number, n: number): number[] {
  if (n === 1) return [start];
  const step = (stop - start) / (n - 1);
  return Array.from({ length: n }, (_, i) => (i === n - 1 ? stop : i * step + start));
}

/** numpy.interp(x, xs, ys) for increasing xs and x within [xs[0], xs[last]]. */
function numpyInterp(x: number, xs: readonly number[], ys: readonly number[]): number {
  const last = xs.length - 1;
  if (x >= xs[last]) return ys[last];
  let j = 0;
  while (xs[j + 1] <= x) j++;
  if (xs[j] === x) return ys[j];
  return ((ys[j + 1] - ys[j]) / (xs[j + 1] - xs[j])) * (x - xs[j]) + ys[j];
}

/** NVIDIA's Align Your Steps 10-step sigmas (with the start), as A1111 has them for SD 1.5 and for SDXL. */
const ALIGN_YOUR_STEPS = {
  sd15: [14.615, 6.475, 3.861, 2.697, 1.886, 1.396, 0.963, 0.652, 0.399, 0.152, 0.029],
  sdxl: [14.615, 6.315, 3.771, 2.181, 1.342, 0.862, 0.555, 0.38, 0.234, 0.113, 0.029],
} as const;

/**
 * Align Your Steps: NVIDIA's tuned sigmas for the model family (the SD 1.5 table for anything but SDXL, as A1111), then
 * 0. For other than 11 sigmas, A1111 interpolates log sigma linearly over the table (its loglinear_interp) to n values:
 * so n steps run on n + 1 sigmas, except n = 11, which takes the 11-sigma table as it is (12 sigmas). It ignores the
 * model's own sigma range.
 */
export function alignYourStepsSchedule(n: number, sdxl: boolean): number[] {
  checkCount('Align Your Steps', n);
  const table = sdxl ? ALIGN_YOUR_STEPS.sdxl : ALIGN_YOUR_STEPS.sd15;
  if (n === table.length) return [...table, 0];
  const xs = numpyLinspace(0, 1, table.length),
    ys = [...table].reverse().map(Math.log);
  return [
    ...numpyLinspace(0, 1, n)
      .map((x) => Math.exp(numpyInterp(x, xs, ys)))
      .reverse(),
    0,
  ];
}

/** A1111's defaults for its "Beta schedule alpha" and "beta" settings. */
export const BETA_SCHEDULE_DEFAULTS = { alpha: 0.6, beta: 0.6 } as const;

/**
 * Beta ("Beta Sampling is All You Need", Lee et al. 2024, as A1111 has it): n sigmas at the Beta(alpha, beta)
 * quantiles of 1 - numpy.linspace(0, 1, n), mapped linearly onto [sigmaMin, sigmaMax], then 0. With alpha = beta < 1
 * the steps crowd at both ends of the range.
 */
export function betaSchedule(
  n: number,
  sigmaMin: number,
  sigmaMax: number,
  alpha: number = BETA_SCHEDULE_DEFAULTS.alpha,
  beta: number = BETA_SCHEDULE_DEFAULTS.beta,
): number[] {
  checkCount('Beta', n);
  return [...numpyLinspace(0, 1, n).map((t) => sigmaMin + betaQuantile(1 - t, alpha, beta) * (sigmaMax - sigmaMin)), 0];
}
