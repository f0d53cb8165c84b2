// A1111's "LCM" sampler runs the model through its LCMCompVisDenoiser (modules/sd_samplers_lcm.py): the model seen at
// the 50 timesteps LCM was distilled on (every (T/50)-th, ending at T-1), each sigma fed to the UNet as the nearest
// of them, and the output given LCM's boundary condition. These are those pieces, over the model's own table.
import { DiscreteSchedule } from './discrete.ts';

/** LCM's original timesteps (A1111's and diffusers' default, 50). */
export const LCM_ORIGINAL_STEPS = 50;

/** The 50 sigmas, ascending (log), and the stride between their timesteps: what the LCM denoiser knows of the model. */
export interface LcmGrid {
  logSigmas: readonly number[];
  skip: number;
}

export function lcmGrid(model: DiscreteSchedule): LcmGrid {
  const T = model.numTimesteps,
    skip = Math.floor(T / LCM_ORIGINAL_STEPS);
  if (skip < 1)
    throw new RangeError(`the LCM sampler needs a model trained on at least ${LCM_ORIGINAL_STEPS} timesteps (this one has ${T})`);
  // Entry k is timestep T-1 - (49-k) skip, as A1111 picks alphas_cumprod_valid.
  const logSigmas = Array.from({ length: LCM_ORIGINAL_STEPS }, (_, k) => model.logSigmas[T - 1 - (LCM_ORIGINAL_STEPS - 1 - k) * skip]);
  return { logSigmas, skip };
}

/** The timestep the LCM denoiser gives the UNet for sigma: k skip + skip - 1 for the entry k nearest in log sigma. */
export function lcmTimestep(grid: LcmGrid, sigma: number): number {
  const logSigma = Math.log(sigma);
  let best = 0;
  for (let k = 1; k < grid.logSigmas.length; k++) {
    if (Math.abs(logSigma - grid.logSigmas[k]) < Math.abs(logSigma - grid.logSigmas[best])) best = k;
  }
  return best * grid.skip + grid.skip - 1;
}

/** LCM's boundary condition at sigma: D' = cSkip x + cOut D, from the scaled timestep 10 t (sigma_data 0.5). */
export function lcmBoundary(grid: LcmGrid, sigma: number): { cSkip: number; cOut: number } {
  const scaled = lcmTimestep(grid, sigma) * 10,
    sigmaData2 = 0.25;
  return { cSkip: sigmaData2 / (scaled ** 2 + sigmaData2), cOut: scaled / Math.sqrt(scaled ** 2 + sigmaData2) };
}

/** The 50-entry table as a model schedule of its own (A1111's schedules for LCM use the LCM denoiser's sigmas). */
export function lcmSchedule(model: DiscreteSchedule): DiscreteSchedule {
  const abar = lcmGrid(model).logSigmas.map((logSigma) => 1 / (1 + Math.exp(2 * logSigma)));
  const betas = abar.map((a, k) => 1 - (k === 0 ? a : a / abar[k - 1]));
  return new DiscreteSchedule({ trained_betas: betas, num_train_timesteps: betas.length });
}
