// A model's discrete noise levels, built from its scheduler_config.json (never hard-coded), and the
// mapping between continuous sigma and the (fractional) training timestep the UNet takes.
import { lcmGrid, lcmTimestep, type LcmGrid } from './lcm-grid.ts';

export interface SchedulerConfig {
  num_train_timesteps?: number;
  beta_start?: number;
  beta_end?: number;
  beta_schedule?: string;
  trained_betas?: number[] | null;
  prediction_type?: string;
  steps_offset?: number;
}

/** 'lcm': A1111's LCM denoiser, the nearest of the model's 50 LCM timesteps (lcm-grid.ts). */
export type TimestepMode = 'fractional' | 'nearest' | 'lcm';

export class ScheduleConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ScheduleConfigError';
  }
}

/** SD trains on 1000 timesteps; a table far longer than any real model's only costs memory and time. */
export const MAX_TRAIN_TIMESTEPS = 10_000;

function trainedBetas(config: SchedulerConfig): number[] | undefined {
  const betas: unknown = config.trained_betas;
  if (betas === undefined || betas === null || (Array.isArray(betas) && betas.length === 0)) return undefined;
  if (!Array.isArray(betas) || !betas.every((b) => typeof b === 'number'))
    throw new ScheduleConfigError('trained_betas must be a list of numbers');
  if (betas.length < 2 || betas.length > MAX_TRAIN_TIMESTEPS)
    throw new ScheduleConfigError(`trained_betas has ${betas.length} entries; 2 at least, at most ${MAX_TRAIN_TIMESTEPS}`);
  // diffusers indexes the table by num_train_timesteps: a different length leaves timesteps without a beta.
  if (config.num_train_timesteps !== undefined && config.num_train_timesteps !== betas.length) {
    throw new ScheduleConfigError(`trained_betas has ${betas.length} entries but num_train_timesteps is ${config.num_train_timesteps}`);
  }
  return [...betas];
}

function betasFromConfig(config: SchedulerConfig): number[] {
  const trained = trainedBetas(config);
  if (trained) return trained;
  const n = config.num_train_timesteps ?? 1000;
  if (!Number.isInteger(n) || n < 2 || n > MAX_TRAIN_TIMESTEPS) {
    throw new ScheduleConfigError(`scheduler config: num_train_timesteps must be a whole number in 2..${MAX_TRAIN_TIMESTEPS} (got ${n})`);
  }
  const start = config.beta_start ?? 0.0001,
    end = config.beta_end ?? 0.02;
  const schedule = config.beta_schedule ?? 'linear';
  if (schedule === 'squaredcos_cap_v2') {
    const abar = (t: number) => Math.cos((((t + 0.008) / 1.008) * Math.PI) / 2) ** 2;
    return Array.from({ length: n }, (_, i) => Math.min(1 - abar((i + 1) / n) / abar(i / n), 0.999));
  }
  if (!(start > 0 && end > start && end < 1))
    throw new ScheduleConfigError(`scheduler config: need 0 < beta_start < beta_end < 1 (got ${start}, ${end})`);
  const ramp = (i: number) => i / (n - 1);
  if (schedule === 'linear') return Array.from({ length: n }, (_, i) => start + ramp(i) * (end - start));
  if (schedule === 'scaled_linear') {
    const a = Math.sqrt(start),
      b = Math.sqrt(end);
    return Array.from({ length: n }, (_, i) => (a + ramp(i) * (b - a)) ** 2);
  }
  throw new ScheduleConfigError(
    `scheduler config: beta_schedule "${schedule}" is not supported (linear, scaled_linear, squaredcos_cap_v2)`,
  );
}

/** The model's sigma table: sigma_t = sqrt((1 - abar_t) / abar_t), ascending in t. */
export class DiscreteSchedule {
  readonly sigmas: Float64Array;
  readonly logSigmas: Float64Array;
  readonly stepsOffset: number;
  private lcm?: LcmGrid;

  constructor(config: SchedulerConfig) {
    const betas = betasFromConfig(config);
    this.sigmas = new Float64Array(betas.length);
    let abar = 1;
    betas.forEach((beta, i) => {
      if (!(beta > 0 && beta < 1)) throw new ScheduleConfigError(`scheduler config: beta ${i} is ${beta}, must be in (0, 1)`);
      abar *= 1 - beta;
      this.sigmas[i] = Math.sqrt((1 - abar) / abar);
    });
    this.logSigmas = this.sigmas.map(Math.log);
    this.stepsOffset = config.steps_offset ?? 0;
  }

  get numTimesteps(): number {
    return this.sigmas.length;
  }
  get sigmaMin(): number {
    return this.sigmas[0];
  }
  get sigmaMax(): number {
    return this.sigmas[this.sigmas.length - 1];
  }

  /**
   * The training timestep for a sigma: linear in log-sigma between the two neighbouring entries
   * (fractional) or the nearest entry. Sigmas outside the table clamp to its ends (0 and T-1).
   */
  sigmaToTimestep(sigma: number, mode: TimestepMode = 'fractional'): number {
    if (!(sigma > 0) || !Number.isFinite(sigma)) throw new RangeError(`sigma must be finite and > 0 (got ${sigma})`);
    if (mode === 'lcm') {
      this.lcm ??= lcmGrid(this);
      return lcmTimestep(this.lcm, sigma);
    }
    const logSigma = Math.log(sigma),
      table = this.logSigmas,
      last = table.length - 1;
    if (mode === 'nearest') {
      let best = 0;
      for (let i = 1; i <= last; i++) if (Math.abs(table[i] - logSigma) < Math.abs(table[best] - logSigma)) best = i;
      return best;
    }
    if (logSigma <= table[0]) return 0;
    if (logSigma >= table[last]) return last;
    let lo = 0,
      hi = last; // binary search: table[lo] <= logSigma < table[hi]
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if (table[mid] <= logSigma) lo = mid;
      else hi = mid;
    }
    return lo + (logSigma - table[lo]) / (table[hi] - table[lo]);
  }

  /** Inverse of sigmaToTimestep: interpolate log-sigma at a fractional timestep in [0, T-1]. */
  timestepToSigma(t: number): number {
    const last = this.logSigmas.length - 1;
    if (!(t >= 0 && t <= last)) throw new RangeError(`timestep must be in [0, ${last}] (got ${t})`);
    const lo = Math.floor(t),
      hi = Math.ceil(t),
      w = t - lo;
    return Math.exp((1 - w) * this.logSigmas[lo] + w * this.logSigmas[hi]);
  }
}
