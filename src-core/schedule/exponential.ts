// k-diffusion's schedules in log sigma: exponential (evenly spaced in log sigma) and polyexponential (a power ramp).
import { linspace } from './karras.ts';

function checkRange(name: string, n: number, sigmaMin: number, sigmaMax: number): void {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`${name} schedule needs a whole number of sigmas >= 1 (got ${n})`);
  if (!(sigmaMin > 0) || !(sigmaMax > sigmaMin) || !Number.isFinite(sigmaMax)) {
    throw new RangeError(`${name} schedule needs 0 < sigma_min < sigma_max, finite (got ${sigmaMin}, ${sigmaMax})`);
  }
}

/** n sigmas evenly spaced in log sigma from sigmaMax down to sigmaMin (torch.linspace's fractions), then 0. */
export function exponentialSchedule(n: number, sigmaMin: number, sigmaMax: number): number[] {
  checkRange('exponential', n, sigmaMin, sigmaMax);
  return [...linspace(Math.log(sigmaMax), Math.log(sigmaMin), n).map(Math.exp), 0];
}

/**
 * log sigma = log sigmaMin + ramp^rho (log sigmaMax - log sigmaMin), the ramp from 1 down to 0, then 0. rho = 1 (A1111's
 * default) is the exponential schedule; a larger rho puts more steps at low noise.
 */
export function polyexponentialSchedule(n: number, sigmaMin: number, sigmaMax: number, rho = 1): number[] {
  checkRange('polyexponential', n, sigmaMin, sigmaMax);
  if (!(rho > 0) || !Number.isFinite(rho)) throw new RangeError(`rho must be > 0 (got ${rho})`);
  const logMin = Math.log(sigmaMin),
    span = Math.log(sigmaMax) - logMin;
  return [...linspace(1, 0, n).map((f) => Math.exp(f ** rho * span + logMin)), 0];
}
