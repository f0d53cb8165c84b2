// The steps each pass's prompt schedule is made for (prompt editing and alternation), as A1111 counts them: its
// CFGDenoiser advances the schedule at every model evaluation, so the schedule is made for the sampler's
// "total steps", twice the steps for the samplers it marks second order (Heun and Restart here:
// sd_samplers_kdiffusion.py, SamplerData.total_steps). txt2img and img2img use the steps asked for (img2img
// too, though it runs only strength x steps of them unless its steps are exact: processing.py setup_conds);
// hires fix's second pass uses its own steps, its whole-step edits counted from the first pass's end
// (calculate_hr_conds). Hires fix's own prompt and negative prompt (hr_prompt, hr_negative_prompt) go with its pass.
import type { GenerateRequest } from '../contract/generate.ts';
import { parseExtraNetworks } from '../adapters/prompt-tags.ts';
import type { PassSteps } from '../prompt/conditioning.ts';
import type { JobPlan } from './passes.ts';

const SECOND_ORDER: ReadonlySet<GenerateRequest['sampler']> = new Set(['heun', 'restart']);

/** A1111's total_steps: the steps, twice them for a second-order sampler. */
export const scheduleSteps = (sampler: GenerateRequest['sampler'], steps: number): number =>
  SECOND_ORDER.has(sampler) ? 2 * steps : steps;

/** Each pass's PassSteps, in the job's order. */
export function passPromptSteps(request: GenerateRequest, job: JobPlan): PassSteps[] {
  const first = scheduleSteps(request.sampler, request.steps);
  return job.passes.map((pass) =>
    pass.kind === 'hires' && job.hires
      ? { steps: scheduleSteps(job.hires.sampler, job.hires.steps), hires: { firstPassSteps: first }, ...hiresPrompts(request) }
      : { steps: first },
  );
}

/**
 * The hires pass's own texts, each only where it differs from the request's (empty is the request's, as A1111's
 * `hr_prompt or prompt`), so a copied prompt runs as before. The hires prompt loses its LoRA tags as the prompt does
 * (adapters/model-adapters.ts checks that they are the prompt's); the negative prompt's tags are text.
 */
export function hiresPrompts(request: GenerateRequest): { prompt?: string; negativePrompt?: string } {
  const own: { prompt?: string; negativePrompt?: string } = {};
  const prompt = request.hires?.prompt,
    negative = request.hires?.negativePrompt;
  if (prompt) {
    const stripped = parseExtraNetworks(prompt).prompt;
    if (stripped !== parseExtraNetworks(request.prompt).prompt) own.prompt = stripped;
  }
  if (negative && negative !== request.negativePrompt) own.negativePrompt = negative;
  return own;
}
