// A1111's names of the schedules ("Schedule type" in its infotext), both ways, and what its "Automatic" means per
// sampler: shared by the first pass's key (metadata.ts) and hires fix's "Hires schedule type" (metadata-img2img.ts).
import type { GenerateRequest } from '../contract/generate.ts';
import type { SamplerName } from '../samplers/index.ts';

type ScheduleName = GenerateRequest['schedule'];

export const SCHEDULE_LABELS: Record<ScheduleName, string> = {
  karras: 'Karras',
  normal: 'Uniform',
  exponential: 'Exponential',
  polyexponential: 'Polyexponential',
  sgm_uniform: 'SGM Uniform',
  simple: 'Simple',
  kl_optimal: 'KL Optimal',
  align_your_steps: 'Align Your Steps',
  beta: 'Beta',
};
/** A1111's schedule types by their labels, lower case (its "Normal" gives the same sigmas as "Uniform", our normal). */
export const SCHEDULE_BY_LABEL: ReadonlyMap<string, ScheduleName> = new Map([
  ...Object.entries(SCHEDULE_LABELS).map(([name, label]) => [label.toLowerCase(), name as ScheduleName] as const),
  ['normal', 'normal'],
  ['sgmuniform', 'sgm_uniform'],
]);
/**
 * What A1111's "Schedule type: Automatic" means per sampler: the scheduler its sampler definition names
 * (Karras for DPM++ 2M, DPM++ SDE, DPM++ 2S a, DPM2, DPM2 a and Restart, Exponential for DPM++ 2M SDE, its Heun
 * and 3M SDE), else the model's own sigmas (our Normal). DDIM has its own grid.
 */
export const AUTOMATIC_SCHEDULE: Record<SamplerName, ScheduleName> = {
  euler: 'normal',
  euler_ancestral: 'normal',
  heun: 'normal',
  dpmpp_2m: 'karras',
  ddim: 'normal',
  restart: 'karras',
  lms: 'normal',
  dpm_2: 'karras',
  dpm_2_ancestral: 'karras',
  dpmpp_2s_ancestral: 'karras',
  dpmpp_sde: 'karras',
  dpmpp_2m_sde: 'exponential',
  dpmpp_3m_sde: 'exponential',
  dpmpp_2m_sde_heun: 'exponential',
  // A1111's LCM has no scheduler of its own: its LCM denoiser's sigmas, our Normal on LCM's 50 timesteps.
  lcm: 'normal',
};
