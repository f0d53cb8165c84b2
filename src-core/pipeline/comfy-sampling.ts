// A ComfyUI sampler node's sampler_name and scheduler as this app's sampler and schedule, with a note wherever the
// same settings cannot give ComfyUI's image. From ComfyUI's comfy/samplers.py (KSAMPLER_NAMES, SCHEDULER_HANDLERS,
// KSampler) and comfy/k_diffusion/sampling.py, read for the SD 1.x/2.x/SDXL models this app runs (ModelSamplingDiscrete:
// its sigma table, sigma_min = sigmas[0], sigma_max = sigmas[T-1]).
import type { GenerateRequestInput } from '../contract/generate.ts';
import { SAMPLERS, type SamplerName } from '../samplers/index.ts';

type Request = Partial<GenerateRequestInput>;

/**
 * ComfyUI sampler names whose update is this app's: k-diffusion's sample_* functions in both, with ComfyUI's defaults
 * (eta 1, s_noise 1, r 1/2 for DPM++ SDE, the 'midpoint' solver for DPM++ 2M SDE), which are this app's. For these
 * models ComfyUI's half-log-SNR helpers reduce to k-diffusion's -log(sigma). "_gpu" differs only in building the
 * Brownian tree of its noise on the GPU (BrownianTreeNoiseSampler cpu=False): it draws from the GPU's generator.
 * ComfyUI's "ddim" runs k-diffusion's Euler on the chosen schedule (comfy/samplers.py sampler_object), so it is Euler
 * here too.
 */
const SAMPLER_NAMES: Record<string, SamplerName> = {
  euler: 'euler',
  euler_ancestral: 'euler_ancestral',
  heun: 'heun',
  dpmpp_2m: 'dpmpp_2m',
  ddim: 'euler',
  lms: 'lms',
  dpm_2: 'dpm_2',
  dpm_2_ancestral: 'dpm_2_ancestral',
  dpmpp_2s_ancestral: 'dpmpp_2s_ancestral',
  dpmpp_sde: 'dpmpp_sde',
  dpmpp_sde_gpu: 'dpmpp_sde',
  dpmpp_2m_sde: 'dpmpp_2m_sde',
  dpmpp_2m_sde_gpu: 'dpmpp_2m_sde',
  dpmpp_3m_sde: 'dpmpp_3m_sde',
  dpmpp_3m_sde_gpu: 'dpmpp_3m_sde',
};

/**
 * Ancestral samplers: ComfyUI draws their per-step noise from a generator of its own (default_noise_sampler: seeded
 * with the seed, on the device that samples), where this app continues each image's noise stream.
 */
const OWN_GENERATOR: ReadonlySet<SamplerName> = new Set(['euler_ancestral', 'dpm_2_ancestral', 'dpmpp_2s_ancestral']);

/**
 * SDE samplers: ComfyUI draws their noise from a torchsde Brownian tree seeded with the seed, on the CPU's generator: for
 * a batch of one, the engine's tree (noise/brownian-noise.ts). Its batches get one tree, as they get one noise generator.
 */
export const brownianSampler = (sampler: SamplerName | undefined): boolean => !!sampler && !!SAMPLERS[sampler].brownianNoise;

/**
 * Schedules that compute what this app's do. In ComfyUI's ModelSamplingDiscrete, timestep(sigma) is the nearest table
 * entry and sigma(t) interpolates log-sigma between entries, so timestep(sigma_max) = T-1 and timestep(sigma_min) = 0:
 * - "normal": sigma(t) at linspace(T-1, 0, n), then 0: the app's Normal.
 * - "karras": Karras et al.'s, rho 7, from sigma_max down to sigma_min: the app's Karras.
 * - "exponential": k-diffusion's get_sigmas_exponential between the same two: the app's Exponential.
 * - "sgm_uniform": sigma(t) at linspace(T-1, 0, n + 1) without its last point, then 0: the app's SGM Uniform
 *   (A1111's, from the same two ends).
 * - "simple": sigmas[T-1 - floor(i T / n)] for i < n, then 0: the app's Simple (A1111 took it from ComfyUI).
 * Not here, though some share a name with this app's (A1111's) schedules:
 * - "kl_optimal": n sigmas with atan evenly spaced at i / (n - 1), then 0; A1111's (the app's) takes n + 1 sigmas at
 *   i / n and ends at sigma_min, with no 0.
 * - "beta": table entries at rint(T-1 times the Beta(0.6, 0.6) quantiles), repeats dropped, then 0; A1111's (the app's)
 *   maps the quantiles linearly onto [sigma_min, sigma_max].
 * - "ddim_uniform": every (T // n)-th entry from 1 up while below T, so n or more sigmas; the app's DDIM grid is no
 *   form schedule.
 * - "linear_quadratic" (Mochi's, in units of sigma_max). Align Your Steps is a node of its own in ComfyUI, not a
 *   scheduler name.
 */
const SCHEDULE_NAMES: Record<string, NonNullable<Request['schedule']>> = {
  normal: 'normal',
  karras: 'karras',
  exponential: 'exponential',
  sgm_uniform: 'sgm_uniform',
  simple: 'simple',
};

/**
 * ComfyUI's KSampler.DISCARD_PENULTIMATE_SIGMA_SAMPLERS (with uni_pc and uni_pc_bh2, not run here): it builds their
 * schedule for one step more and drops the next-to-last sigma, as A1111 and this app do. It lacks dpmpp_3m_sde, which
 * this app (as A1111) also shortens that way.
 */
const COMFY_DROPS_SIGMA: ReadonlySet<string> = new Set(['dpm_2', 'dpm_2_ancestral']);

/** Notes on how ComfyUI runs this sampler differently from this app; nothing when it runs the same. */
function samplerNotes(comfyName: string, sampler: SamplerName): string[] {
  const label = SAMPLERS[sampler].label;
  const notes: string[] = [];
  if (comfyName === 'ddim') notes.push('ComfyUI\'s "ddim" sampler is Euler on the chosen schedule; it is Euler here');
  if (OWN_GENERATOR.has(sampler))
    notes.push(`ComfyUI draws ${label}'s noise at each step from its own generator; the image will differ after the first step`);
  if (brownianSampler(sampler) && comfyName.endsWith('_gpu')) {
    notes.push(
      `${label} in ComfyUI ("${comfyName}") builds its Brownian tree on the GPU, drawing from the GPU's generator while its ` +
        "start noise comes from the CPU's; here both come from one noise source, so the image will differ from the original",
    );
  }
  if (SAMPLERS[sampler].discardPenultimateSigma && !COMFY_DROPS_SIGMA.has(comfyName.replace(/_gpu$/, '')))
    notes.push(
      `ComfyUI runs ${label} on its schedule as it is; here, as in A1111, the schedule is built for one step more and ` +
        'its next-to-last sigma dropped, so the steps differ',
    );
  return notes;
}

/** Fills the request's sampler from a ComfyUI sampler node's sampler_name, with its notes; `otherwise`: what happens instead. */
export function readComfySampler(name: string, request: Request, notes: string[], otherwise = 'keeping the current sampler'): void {
  if (!Object.hasOwn(SAMPLER_NAMES, name)) {
    notes.push(`sampler "${name.slice(0, 40)}" is not available here; ${otherwise}`);
    return;
  }
  request.sampler = SAMPLER_NAMES[name];
  notes.push(...samplerNotes(name, request.sampler));
}

/** Fills the request's schedule from a ComfyUI sampler node's scheduler; `otherwise`: what happens instead. */
export function readComfySchedule(name: string, request: Request, notes: string[], otherwise = 'keeping the current schedule'): void {
  if (Object.hasOwn(SCHEDULE_NAMES, name)) request.schedule = SCHEDULE_NAMES[name];
  else
    notes.push(
      `ComfyUI's "${name.slice(0, 40)}" schedule has no counterpart here (${Object.keys(SCHEDULE_NAMES).join(', ')}); ` + otherwise,
    );
}
