// The sampler family, by the names the engine, the CLI and the UI use. Each entry knows its
// A1111-style label, how many denoiser evaluations it will make, and how to run.
import { sampleDpm2, dpm2Evaluations } from './dpm2.ts';
import { sampleDpm2Ancestral, dpm2AncestralEvaluations } from './dpm2-ancestral.ts';
import { sampleDpmpp2m, dpmpp2mEvaluations, dpmpp2mLinearSteps } from './dpmpp-2m.ts';
import { sampleDpmpp2mSde, sampleDpmpp2mSdeHeun, dpmpp2mSdeEvaluations } from './dpmpp-2m-sde.ts';
import { sampleDpmpp2sAncestral, dpmpp2sAncestralEvaluations } from './dpmpp-2s-ancestral.ts';
import { sampleDpmpp3mSde, dpmpp3mSdeEvaluations } from './dpmpp-3m-sde.ts';
import { sampleDpmppSde, dpmppSdeEvaluations } from './dpmpp-sde.ts';
import { sampleEuler, eulerEvaluations, eulerLinearSteps } from './euler.ts';
import { sampleEulerAncestral, eulerAncestralEvaluations, eulerAncestralLinearSteps, type AncestralOptions } from './euler-ancestral.ts';
import { sampleHeun, heunEvaluations, heunLinearSteps } from './heun.ts';
import { sampleLcm, lcmEvaluations, type LcmOptions } from './lcm.ts';
import { sampleLms, lmsEvaluations } from './lms.ts';
import { sampleRestart, restartEvaluations, restartLinearSteps, type RestartOptions } from './restart.ts';
import { SamplerError, type Denoiser, type LinearStep, type SampleContext } from './types.ts';
import type { ChurnOptions } from './churn.ts';
import { SAMPLER_LABELS, type GenerateRequest } from '../contract/generate.ts';

export type SamplerOptions = AncestralOptions & RestartOptions & LcmOptions & ChurnOptions;

/**
 * Request fields only some samplers read: eta, the noise multiplier, Restart's segments and churn, and the sigma churn
 * of Euler, Heun and DPM2 (sChurn, sTmin, sTmax; their noise multiplier too, where the churn is on).
 */
export type SamplerSetting = 'eta' | 'sNoise' | 'restart' | 'churn';

export interface SamplerDefinition {
  /** The name A1111 writes into PNG parameters ("Euler a", "DPM++ 2M", ...). */
  label: string;
  /** Samplers tied to a timestep grid (DDIM) ignore the user's schedule choice. */
  forcedSchedule?: 'ddim';
  /** A1111 builds this sampler's schedule for one step more and drops the next-to-last sigma (DPM2, DPM2 a, DPM++ 3M SDE). */
  discardPenultimateSigma?: boolean;
  /**
   * A1111 runs it through its LCM denoiser (LCM): schedules on the model's 50 LCM timesteps, the UNet given the nearest
   * of them, the estimate given LCM's boundary condition (schedule/lcm-grid.ts).
   */
  lcmTimesteps?: boolean;
  /**
   * A1111 gives it a Brownian tree per image as its noise (create_noise_sampler, for DPM++ SDE, 2M SDE, 2M SDE Heun,
   * 3M SDE): the pipeline passes one as SampleContext.intervalNoise (noise/brownian-noise.ts).
   */
  brownianNoise?: boolean;
  evaluations(sigmas: readonly number[], options: SamplerOptions): number;
  sample(model: Denoiser, x: Float64Array, sigmas: readonly number[], ctx: SampleContext, options: SamplerOptions): Promise<Float64Array>;
  /** The request's sampler settings this sampler reads; it ignores the others (the command line says so). */
  reads?: readonly SamplerSetting[];
  /** The run as LinearSteps, for samplers whose every step is one (these can run wholly on a device); undefined: not this run. */
  linearSteps?(sigmas: readonly number[], options: SamplerOptions): LinearStep[] | undefined;
}

// Every sampler is registered the same way: its label, its evaluation count and its sample function,
// each named as its module exports it (a sampler without options ignores them). The names are exactly
// the contract's sampler choices (checked by `satisfies`).
const definitions = {
  euler: {
    label: SAMPLER_LABELS.euler,
    evaluations: eulerEvaluations,
    sample: sampleEuler,
    linearSteps: eulerLinearSteps,
    reads: ['churn'],
  },
  euler_ancestral: {
    label: SAMPLER_LABELS.euler_ancestral,
    evaluations: eulerAncestralEvaluations,
    sample: sampleEulerAncestral,
    linearSteps: eulerAncestralLinearSteps,
    reads: ['eta', 'sNoise'],
  },
  heun: { label: SAMPLER_LABELS.heun, evaluations: heunEvaluations, sample: sampleHeun, linearSteps: heunLinearSteps, reads: ['churn'] },
  dpmpp_2m: { label: SAMPLER_LABELS.dpmpp_2m, evaluations: dpmpp2mEvaluations, sample: sampleDpmpp2m, linearSteps: dpmpp2mLinearSteps },
  // DDIM with eta = 0 is exactly Euler in sigma space, taken on DDIM's own timestep grid.
  ddim: {
    label: SAMPLER_LABELS.ddim,
    forcedSchedule: 'ddim',
    evaluations: eulerEvaluations,
    // Without Euler's churn (A1111's DDIM has none): the options are not passed on.
    sample: (model, x, sigmas, ctx) => sampleEuler(model, x, sigmas, ctx),
    linearSteps: (sigmas) => eulerLinearSteps(sigmas),
  },
  restart: {
    label: SAMPLER_LABELS.restart,
    evaluations: restartEvaluations,
    sample: sampleRestart,
    linearSteps: restartLinearSteps,
    reads: ['sNoise', 'restart'],
  },
  lms: { label: SAMPLER_LABELS.lms, evaluations: lmsEvaluations, sample: sampleLms },
  dpm_2: {
    label: SAMPLER_LABELS.dpm_2,
    evaluations: dpm2Evaluations,
    sample: sampleDpm2,
    discardPenultimateSigma: true,
    reads: ['churn'],
  },
  dpm_2_ancestral: {
    label: SAMPLER_LABELS.dpm_2_ancestral,
    evaluations: dpm2AncestralEvaluations,
    sample: sampleDpm2Ancestral,
    discardPenultimateSigma: true,
    reads: ['eta', 'sNoise'],
  },
  dpmpp_2s_ancestral: {
    label: SAMPLER_LABELS.dpmpp_2s_ancestral,
    evaluations: dpmpp2sAncestralEvaluations,
    sample: sampleDpmpp2sAncestral,
    reads: ['eta', 'sNoise'],
  },
  dpmpp_sde: {
    label: SAMPLER_LABELS.dpmpp_sde,
    evaluations: dpmppSdeEvaluations,
    sample: sampleDpmppSde,
    brownianNoise: true,
    reads: ['eta', 'sNoise'],
  },
  dpmpp_2m_sde: {
    label: SAMPLER_LABELS.dpmpp_2m_sde,
    evaluations: dpmpp2mSdeEvaluations,
    sample: sampleDpmpp2mSde,
    brownianNoise: true,
    reads: ['eta', 'sNoise'],
  },
  dpmpp_2m_sde_heun: {
    label: SAMPLER_LABELS.dpmpp_2m_sde_heun,
    evaluations: dpmpp2mSdeEvaluations,
    sample: sampleDpmpp2mSdeHeun,
    brownianNoise: true,
    reads: ['eta', 'sNoise'],
  },
  lcm: { label: SAMPLER_LABELS.lcm, evaluations: lcmEvaluations, sample: sampleLcm, lcmTimesteps: true },
  dpmpp_3m_sde: {
    label: SAMPLER_LABELS.dpmpp_3m_sde,
    evaluations: dpmpp3mSdeEvaluations,
    sample: sampleDpmpp3mSde,
    brownianNoise: true,
    discardPenultimateSigma: true,
    reads: ['eta', 'sNoise'],
  },
} satisfies Record<GenerateRequest['sampler'], SamplerDefinition>;

export type SamplerName = keyof typeof definitions;
export const SAMPLERS: Record<SamplerName, SamplerDefinition> = definitions;
export const SAMPLER_NAMES = Object.keys(SAMPLERS) as SamplerName[];

/** Names that stand for a sampler with fixed options (the conformance vectors name restart_a1111). */
const ALIASES: Readonly<Record<string, { name: SamplerName; options: SamplerOptions }>> = {
  restart_a1111: { name: 'restart', options: { preset: 'a1111' } },
};

/** Looks a sampler up by name or alias ("restart_a1111" is Restart with the a1111 preset). */
export function resolveSampler(name: string, options: SamplerOptions = {}): { sampler: SamplerDefinition; options: SamplerOptions } {
  if (Object.hasOwn(ALIASES, name)) return { sampler: SAMPLERS[ALIASES[name].name], options: { ...options, ...ALIASES[name].options } };
  if (!Object.hasOwn(SAMPLERS, name)) {
    throw new SamplerError(`unknown sampler "${name}" (known: ${[...SAMPLER_NAMES, ...Object.keys(ALIASES)].join(', ')})`);
  }
  return { sampler: SAMPLERS[name as SamplerName], options };
}
