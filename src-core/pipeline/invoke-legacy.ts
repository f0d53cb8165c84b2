// InvokeAI 1.15 to 2.3 PNGs: "sd-metadata" (JSON: {"model_weights", "app_version", "image": {"prompt", "steps",
// "cfg_scale", "seed", "width", "height", "sampler", ...}}) beside "Dream" (its command line: "prompt" -s 50 -S 42
// -W 512 -H 512 -C 7.5 -A k_lms); older files have only "Dream". The negative prompt is written in [brackets] inside
// the prompt, split out as InvokeAI's own importer does (invokeai/frontend/install/import_images.py).
import type { GenerateRequestInput } from '../contract/generate.ts';
import { withinPromptLimit, type ParametersImport } from './metadata.ts';
import { compelNote, Fields, jsonObject } from './invoke-fields.ts';
import { droppedSigmaNote } from './invoke-schedulers.ts';

type Request = Partial<GenerateRequestInput>;

/**
 * InvokeAI 2's sampler names whose method is one of this app's (it did not record the schedule): its ckpt models ran
 * k-diffusion's functions (ldm/generate.py _set_sampler_legacy: k_lms "lms", k_dpm_2 "dpm_2", k_dpm_2_a
 * "dpm_2_ancestral", k_dpmpp_2_a "dpmpp_2s_ancestral", k_dpmpp_2 "dpmpp_2m"...); 2.3's diffusers models ran diffusers'
 * schedulers of the same methods (and, lacking one for k_dpmpp_2_a, the model's own).
 */
const SAMPLERS: Record<string, NonNullable<Request['sampler']>> = {
  k_euler: 'euler',
  k_euler_a: 'euler_ancestral',
  k_heun: 'heun',
  k_dpmpp_2: 'dpmpp_2m',
  ddim: 'ddim',
  k_lms: 'lms',
  k_dpm_2: 'dpm_2',
  k_dpm_2_a: 'dpm_2_ancestral',
  k_dpmpp_2_a: 'dpmpp_2s_ancestral',
};

/** "a cat [blurry, dark]": the bracketed parts are the negative prompt (several are each put in parentheses). */
export function splitBracketedNegative(raw: string): { prompt: string; negative: string } {
  const flat = raw.replace(/[\r\n]/g, '');
  const parts = [...flat.matchAll(/\[(.+?)\]/g)].map((m) => m[1].trim().replace(/^,+|,+$/g, ''));
  const prompt = flat.replace(/\[.+?\]/g, '').trim();
  if (parts.length <= 1) return { prompt, negative: parts[0] ?? '' };
  return { prompt, negative: parts.map((p) => `(${p})`).join('') };
}

/**
 * InvokeAI 2.3 ran a diffusers model's sampler through diffusers' schedulers (ldm/generate.py _set_scheduler), which had
 * none for k_dpmpp_2_a: such a model silently kept its own default scheduler. Its files do not say which kind of model
 * made them, so a 2.3 file (or one that does not give its version) with that sampler gets a note; 2.2 and earlier ran
 * only k-diffusion's function.
 */
function dpmpp2sFallbackNote(sampler: string | undefined, version: string | undefined): string | undefined {
  if (sampler !== 'k_dpmpp_2_a' || (version !== undefined && !/^v?2\.3(\.|$)/.test(version))) return undefined;
  return (
    "InvokeAI 2.3 ran k_dpmpp_2_a on diffusers models with the model's own default scheduler instead (it had no DPM++ 2S a " +
    'for them): if a diffusers model made this image, DPM++ 2S a here will not match it'
  );
}

function fillCommon(request: Request, notes: string[], raw: string | undefined, sampler: string | undefined, version?: string): void {
  if (raw !== undefined) {
    const { prompt, negative } = splitBracketedNegative(raw);
    compelNote([prompt, negative], notes);
    request.prompt = withinPromptLimit(prompt, 'prompt', notes);
    request.negativePrompt = withinPromptLimit(negative, 'negative prompt', notes);
  }
  if (sampler !== undefined && Object.hasOwn(SAMPLERS, sampler)) {
    request.sampler = SAMPLERS[sampler];
    notes.push('InvokeAI 2 did not record its noise schedule; keeping the current schedule');
    // Its KSampler (ldm/models/diffusion/ksampler.py) hands k-diffusion the schedule as it is, for DPM2 too.
    const dropped = droppedSigmaNote('InvokeAI 2', request.sampler);
    if (dropped) notes.push(dropped);
    const fallback = dpmpp2sFallbackNote(sampler, version);
    if (fallback) notes.push(fallback);
  } else if (sampler !== undefined) {
    notes.push(`sampler "${sampler.slice(0, 40)}" is not available here; keeping the current sampler`);
  }
}

function fromSdMetadata(values: Record<string, unknown>): ParametersImport {
  const notes: string[] = [];
  const image = values.image;
  if (typeof image !== 'object' || image === null || Array.isArray(image))
    return { request: {}, notes: ['this PNG comes from InvokeAI, but its "sd-metadata" has no image parameters'] };
  const f = new Fields(image as Record<string, unknown>, notes);
  const request: Request = {};
  // "prompt" is a list of {prompt, weight} (2.x) or a string (earlier).
  const promptList = f.raw('prompt');
  let raw: string | undefined;
  if (Array.isArray(promptList)) {
    const first: unknown = promptList[0];
    if (typeof first === 'object' && first !== null && typeof (first as { prompt?: unknown }).prompt === 'string')
      raw = (first as { prompt: string }).prompt;
    if (promptList.length > 1) notes.push('the file blends several weighted prompts; only the first is used');
  } else {
    raw = f.text('prompt');
  }
  const version = typeof values.app_version === 'string' ? values.app_version : undefined;
  fillCommon(request, notes, raw, f.text('sampler'), version);
  for (const [key, field] of [
    ['steps', 'steps'],
    ['cfgScale', 'cfg_scale'],
    ['seed', 'seed'],
    ['width', 'width'],
    ['height', 'height'],
  ] as const) {
    const value = f.number(field);
    if (value !== undefined) request[key] = value;
  }
  // InvokeAI 2 drew its noise on the GPU it ran on (its own importer records "cuda").
  request.noiseSource = 'torch-cuda';
  notes.push("InvokeAI 2 drew the noise on the GPU it ran on; here NVIDIA's (torch CUDA) noise is used");
  if (f.has('variations')) notes.push("the file's seed variations are not carried over");
  if (f.number('threshold') || f.number('perlin')) notes.push("the file's threshold and perlin noise settings are not available here");
  if (f.has('hires_fix')) notes.push("the file's high resolution fix is not carried over");
  if (f.has('seamless')) notes.push("the file's seamless tiling is not carried over");
  if (/img2img/.test(f.text('type') ?? '')) {
    const strength = f.number('strength');
    if (strength !== undefined) request.strength = strength;
  }
  const model = typeof values.model_weights === 'string' ? values.model_weights : undefined;
  return { request, notes, ...(model ? { model } : {}) };
}

/** The "Dream" command line: a quoted prompt, then switches (-s steps, -S seed, -W, -H, -C cfg, -A sampler). */
function fromDream(line: string): ParametersImport {
  const notes: string[] = [];
  const request: Request = {};
  const quoted = /^\s*"((?:[^"\\]|\\.)*)"(.*)$/s.exec(line);
  const raw = quoted ? quoted[1].replace(/\\(.)/g, '$1') : line.split(/\s-[a-zA-Z]/)[0];
  const switches = quoted ? quoted[2] : line.slice(raw.length);
  const values: Record<string, string> = {};
  for (const m of switches.matchAll(/(?:^|\s)-([sSWHCA])\s*(\S+)/g)) values[m[1]] ??= m[2];
  fillCommon(request, notes, raw, values.A);
  const numbers: Array<[keyof Request, string]> = [
    ['steps', 's'],
    ['seed', 'S'],
    ['width', 'W'],
    ['height', 'H'],
    ['cfgScale', 'C'],
  ];
  for (const [key, flag] of numbers) {
    if (values[flag] === undefined) continue;
    const n = Number(values[flag]);
    if (Number.isFinite(n)) (request as Record<string, unknown>)[key] = n;
    else notes.push(`-${flag} ${values[flag].slice(0, 40)} in the file is not a number; keeping the current value`);
  }
  return { request, notes };
}

/** Form values from InvokeAI 1.x/2.x chunks, or undefined when the file has neither. */
export function invokeLegacyToRequest(texts: Record<string, string>): ParametersImport | undefined {
  if (texts['sd-metadata'] !== undefined) {
    const values = jsonObject(texts['sd-metadata'], 'sd-metadata');
    if (typeof values === 'string')
      return { request: {}, notes: [`this PNG comes from InvokeAI, but its parameters could not be read: ${values}`] };
    return fromSdMetadata(values);
  }
  const dream = texts.Dream ?? texts.dream;
  return dream === undefined ? undefined : fromDream(dream);
}
