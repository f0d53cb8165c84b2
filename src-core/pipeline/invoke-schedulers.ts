// InvokeAI's scheduler names (3.x and later) as this app's sampler and schedule, with a note wherever the same
// settings cannot give InvokeAI's image. From invokeai/backend/stable_diffusion/schedulers/schedulers.py (SCHEDULER_MAP:
// diffusers' schedulers, "_k" with use_karras_sigmas) and invokeai/app/invocations/denoise_latents.py (init_scheduler).
import type { GenerateRequestInput } from '../contract/generate.ts';
import { SAMPLERS, type SamplerName } from '../samplers/index.ts';

type Request = Partial<GenerateRequestInput>;
type Sampling = Pick<Request, 'sampler' | 'schedule'>;

/**
 * Names whose diffusers scheduler runs one of this app's methods: LMS (LMSDiscreteScheduler, order 4), DPM2 and DPM2 a
 * (KDPM2 and KDPM2Ancestral: a second evaluation at the log-sigma midpoint), DPM++ SDE (DPMSolverSDEScheduler: k-diffusion's
 * sample_dpmpp_sde, r 1/2), DPM++ 2M SDE (DPMSolverMultistep with sde-dpmsolver++, order 2, the midpoint solver type).
 * Not here: "dpmpp_2s" (diffusers' singlestep DPM-Solver++ 2S, without noise and one evaluation a step; this app has
 * only the ancestral 2S), "dpmpp_3m" (deterministic 3M), "deis", "unipc", "pndm", "ddpm", "lcm", "tcd", "er_sde".
 */
const SCHEDULERS: Record<string, Sampling> = {
  euler: { sampler: 'euler', schedule: 'normal' },
  euler_k: { sampler: 'euler', schedule: 'karras' },
  euler_a: { sampler: 'euler_ancestral', schedule: 'normal' },
  heun: { sampler: 'heun', schedule: 'normal' },
  heun_k: { sampler: 'heun', schedule: 'karras' },
  dpmpp_2m: { sampler: 'dpmpp_2m', schedule: 'normal' },
  dpmpp_2m_k: { sampler: 'dpmpp_2m', schedule: 'karras' },
  ddim: { sampler: 'ddim' },
  lms: { sampler: 'lms', schedule: 'normal' },
  lms_k: { sampler: 'lms', schedule: 'karras' },
  kdpm_2: { sampler: 'dpm_2', schedule: 'normal' },
  kdpm_2_k: { sampler: 'dpm_2', schedule: 'karras' },
  kdpm_2_a: { sampler: 'dpm_2_ancestral', schedule: 'normal' },
  kdpm_2_a_k: { sampler: 'dpm_2_ancestral', schedule: 'karras' },
  dpmpp_sde: { sampler: 'dpmpp_sde', schedule: 'normal' },
  dpmpp_sde_k: { sampler: 'dpmpp_sde', schedule: 'karras' },
  dpmpp_2m_sde: { sampler: 'dpmpp_2m_sde', schedule: 'normal' },
  dpmpp_2m_sde_k: { sampler: 'dpmpp_2m_sde', schedule: 'karras' },
};

/** Schedulers whose step takes a generator: InvokeAI seeds one with the seed's bits flipped (seed ^ 0xFFFFFFFF). */
const OWN_GENERATOR: ReadonlySet<SamplerName> = new Set(['euler_ancestral', 'dpm_2_ancestral', 'dpmpp_2m_sde']);

const INVOKE_SCHEDULER_NOTE =
  "InvokeAI samples with diffusers' schedulers (timesteps from the model's scheduler config); " +
  'the same settings here give a close, not identical, image';

/**
 * The note for DPM2 and DPM2 a from an app that runs them on the schedule as it is (diffusers, InvokeAI 2's
 * k-diffusion), where this app follows A1111 (SamplerDefinition.discardPenultimateSigma).
 */
export function droppedSigmaNote(app: string, sampler: SamplerName): string | undefined {
  if (!SAMPLERS[sampler].discardPenultimateSigma) return undefined;
  return (
    `${app} runs ${SAMPLERS[sampler].label} on its schedule as it is; here, as in A1111, the schedule is built for one ` +
    'step more and its next-to-last sigma dropped, so the steps differ'
  );
}

/** Fills the request's sampler and schedule from InvokeAI's scheduler name, with its notes. */
export function readInvokeScheduler(name: string, request: Request, notes: string[]): void {
  if (!Object.hasOwn(SCHEDULERS, name)) {
    notes.push(`InvokeAI's scheduler "${name.slice(0, 40)}" is not available here; keeping the current sampler and schedule`);
    return;
  }
  const { sampler } = SCHEDULERS[name];
  Object.assign(request, SCHEDULERS[name]);
  notes.push(INVOKE_SCHEDULER_NOTE);
  if (!sampler) return;
  const label = SAMPLERS[sampler].label;
  if (OWN_GENERATOR.has(sampler))
    notes.push(`InvokeAI draws ${label}'s noise at each step from a generator of its own; the image will differ after the first step`);
  if (sampler === 'dpmpp_sde')
    notes.push(
      `${label} in InvokeAI draws its noise from a Brownian tree (torchsde) seeded with 0, which is not reproduced here: ` +
        'the image will differ from the original',
    );
  const dropped = droppedSigmaNote('InvokeAI', sampler);
  if (dropped) notes.push(dropped);
}
