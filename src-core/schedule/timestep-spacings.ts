// Schedules that pick sigmas from the model's own table by timestep, as AUTOMATIC1111's "SGM Uniform" and "Simple".
import type { DiscreteSchedule } from './discrete.ts';
import { linspace } from './karras.ts';

/**
 * SGM Uniform: n + 1 timesteps evenly spaced from sigmaMax's timestep down to sigmaMin's, the last dropped (so the run
 * never evaluates at sigmaMin itself), mapped to sigmas by the table; then 0. k-diffusion's t_to_sigma, which A1111
 * calls here, first rounds t to float32: so does this (it moves a sigma by up to about 1e-7 of itself).
 */
export function sgmUniformSchedule(model: DiscreteSchedule, n: number, sigmaMin = model.sigmaMin, sigmaMax = model.sigmaMax): number[] {
  const start = model.sigmaToTimestep(sigmaMax),
    end = model.sigmaToTimestep(sigmaMin);
  return [
    ...linspace(start, end, n + 1)
      .slice(0, -1)
      .map((t) => model.timestepToSigma(Math.min(Math.fround(t), model.numTimesteps - 1))),
    0,
  ];
}

/**
 * A1111's Normal over a range of its own (its settings' sigma min and max): n timesteps evenly spaced from sigmaMax's
 * timestep down to sigmaMin's, both kept, mapped to sigmas by the table (t rounded to float32, as k-diffusion's
 * t_to_sigma does); then 0. Over the model's own range it is the table's normal schedule (schedules.ts normalSchedule).
 */
export function normalRangeSchedule(model: DiscreteSchedule, n: number, range: { sigmaMin: number; sigmaMax: number }): number[] {
  const start = model.sigmaToTimestep(range.sigmaMax),
    end = model.sigmaToTimestep(range.sigmaMin);
  return [...linspace(start, end, n).map((t) => model.timestepToSigma(Math.min(Math.fround(t), model.numTimesteps - 1))), 0];
}

/** Simple: every (T / n)-th sigma of the table, counting down from the top entry (index T-1 - floor(i T / n)); then 0. */
export function simpleSchedule(model: DiscreteSchedule, n: number): number[] {
  const T = model.numTimesteps;
  if (n > T) throw new RangeError(`the simple schedule takes at most ${T} steps with this model (got ${n})`);
  const stride = T / n;
  return [...Array.from({ length: n }, (_, i) => model.sigmas[T - 1 - Math.floor(i * stride)]), 0];
}
