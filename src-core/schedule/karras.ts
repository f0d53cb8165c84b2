// Karras et al. (2022) sigma spacing: uniform in sigma^(1/rho).

/**
 * n sigmas from sigmaMax down to sigmaMin, no trailing zero. `ramp` picks how the fractions i/(n-1)
 * are formed, because the reference implementations differ in the last bits and Restart's noise
 * jumps compare sigmas exactly: 'linspace' follows torch.linspace (k-diffusion, AUTOMATIC1111),
 * 'divide' computes i/(n-1) directly (the Restart paper's code, EDM).
 */
export function karrasRamp(n: number, sigmaMin: number, sigmaMax: number, rho = 7, ramp: 'linspace' | 'divide' = 'linspace'): number[] {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`karras schedule needs a whole number of sigmas >= 1 (got ${n})`);
  if (!(sigmaMin > 0) || !(sigmaMax > 0) || !Number.isFinite(sigmaMax)) {
    throw new RangeError(`karras schedule needs 0 < sigma_min and finite sigma_max (got ${sigmaMin}, ${sigmaMax})`);
  }
  if (!(rho > 0)) throw new RangeError(`rho must be > 0 (got ${rho})`);
  const maxInv = sigmaMax ** (1 / rho);
  const minInv = sigmaMin ** (1 / rho);
  const fractions = ramp === 'linspace' ? linspace(0, 1, n) : Array.from({ length: n }, (_, i) => (n === 1 ? 0 : i / (n - 1)));
  return fractions.map((f) => (maxInv + f * (minInv - maxInv)) ** rho);
}

/** karras(n) with the trailing zero that sampler schedules end in. */
export function karrasSchedule(n: number, sigmaMin: number, sigmaMax: number, rho = 7): number[] {
  return [...karrasRamp(n, sigmaMin, sigmaMax, rho), 0];
}

/** torch.linspace: the first half counts up from start, the second half down from end. */
export function linspace(start: number, end: number, n: number): number[] {
  if (n === 1) return [start];
  const step = (end - start) / (n - 1);
  const half = Math.floor(n / 2);
  return Array.from({ length: n }, (_, i) => (i < half ? start + step * i : end - step * (n - 1 - i)));
}
