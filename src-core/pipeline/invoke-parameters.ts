// An InvokeAI PNG's parameters as form values: "invokeai_metadata" (InvokeAI 3 and later: the JSON of its
// CoreMetadata node, invokeai/app/invocations/metadata.py), "invokeai" (3.0 betas), and the older "sd-metadata" JSON /
// "Dream" command line of InvokeAI 1.15 to 2.3. A note for everything the form cannot hold.
import type { GenerateRequestInput } from '../contract/generate.ts';
import { withinPromptLimit, type ParametersImport } from './metadata.ts';
import { invokeLegacyToRequest } from './invoke-legacy.ts';
import { compelNote, Fields, isRecord, jsonObject, shown } from './invoke-fields.ts';
import { readInvokeScheduler } from './invoke-schedulers.ts';

type Request = Partial<GenerateRequestInput>;

/** The model families this app runs (InvokeAI's base names). */
const RUNNABLE_BASES = new Set(['sd-1', 'sd-2', 'sdxl']);

/** A model or LoRA reference: {"name"} (InvokeAI 4 and later) or {"model_name"} (3.x). */
function modelName(value: unknown): { name?: string; base?: string } {
  if (!isRecord(value)) return {};
  const name = value.name ?? value.model_name;
  const base = value.base ?? value.base_model;
  return { ...(typeof name === 'string' ? { name } : {}), ...(typeof base === 'string' ? { base } : {}) };
}

function loraTags(list: unknown, notes: string[]): string[] {
  if (!Array.isArray(list)) return [];
  const tags: string[] = [];
  for (const entry of list.slice(0, 100)) {
    const { name } = modelName(isRecord(entry) ? (entry.model ?? entry.lora) : undefined);
    const weight = isRecord(entry) ? entry.weight : undefined;
    if (!name || /[<>:]/.test(name) || typeof weight !== 'number' || !Number.isFinite(weight)) {
      notes.push(`a LoRA in the file (${shown(entry)}) cannot be written as a prompt tag; it is left out`);
      continue;
    }
    tags.push(`<lora:${name}:${weight}>`);
  }
  if (tags.length > 0) notes.push('LoRAs are named as InvokeAI lists them; here a LoRA file of that name is used');
  return tags;
}

/** What the file holds that the form does not: each named once. */
function leftOutNotes(f: Fields, notes: string[]): void {
  const leftOut: Array<[string, string]> = [
    ['controlnets', 'ControlNets are'],
    ['ipAdapters', 'IP Adapters are'],
    ['t2iAdapters', 'T2I Adapters are'],
    ['refiner_model', 'SDXL refiner pass is'],
    ['hrf_enabled', 'high resolution fix is'],
    ['seamless_x', 'seamless tiling is'],
    ['seamless_y', 'seamless tiling is'],
    ['vae', `separate VAE (${modelName(f.raw('vae')).name?.slice(0, 60) ?? 'named in the file'}) is`],
  ];
  for (const [key, what] of leftOut) {
    const note = `the file's ${what} not carried over`;
    if (f.has(key) && !notes.includes(note)) notes.push(note);
  }
  const rescale = f.number('cfg_rescale_multiplier');
  if (rescale) notes.push(`CFG rescale ${rescale} is not available here`);
  const style = f.text('positive_style_prompt');
  if (style && style !== f.text('positive_prompt')) notes.push('the SDXL style prompt differs from the prompt; it is left out');
}

function readMetadata(f: Fields): ParametersImport {
  const notes = f.notes;
  const request: Request = {};
  const prompt = f.text('positive_prompt') ?? f.text('positive_conditioning'),
    negative = f.text('negative_prompt') ?? f.text('negative_conditioning');
  compelNote([prompt, negative], notes);
  const tags = loraTags(f.raw('loras'), notes);
  if (prompt !== undefined) request.prompt = withinPromptLimit([prompt, ...tags].filter(Boolean).join(' '), 'prompt', notes);
  if (negative !== undefined) request.negativePrompt = withinPromptLimit(negative, 'negative prompt', notes);
  const numbers = { steps: 'steps', cfgScale: 'cfg_scale', seed: 'seed', width: 'width', height: 'height' } as const;
  for (const [key, field] of Object.entries(numbers) as Array<[keyof typeof numbers, string]>) {
    const value = f.number(field);
    if (value !== undefined) request[key] = value;
  }

  const scheduler = f.text('scheduler');
  if (scheduler !== undefined) readInvokeScheduler(scheduler, request, notes);
  // InvokeAI draws the noise with torch on the CPU (its default) or on the GPU.
  const device = f.text('rand_device');
  if (device === 'cpu') request.noiseSource = 'torch-cpu';
  else if (device === 'cuda') request.noiseSource = 'torch-cuda';
  else if (device !== undefined) notes.push(`noise device "${device.slice(0, 40)}" is not available here`);
  // InvokeAI counts the layers skipped (0: none); A1111's clip skip counts from the last layer (1: none).
  const skipped = f.number('clip_skip');
  const model = modelName(f.raw('model'));
  if (skipped !== undefined && Number.isInteger(skipped) && skipped >= 0) {
    if (model.base === undefined || model.base === 'sd-1') request.clipSkip = skipped + 1;
    else if (skipped > 0)
      notes.push(`clip skip is read for SD 1.x models; the file's (${skipped} layers skipped, ${model.base.slice(0, 20)}) is left out`);
  }

  const mode = f.text('generation_mode') ?? '';
  const strength = f.number('strength');
  if (/img2img|inpaint|outpaint/.test(mode) && strength !== undefined) request.strength = strength;
  if (/inpaint|outpaint/.test(mode))
    notes.push(
      `the image was made by ${mode.includes('in') ? 'inpainting' : 'outpainting'} on InvokeAI's canvas; its mask is not carried over`,
    );
  if (model.base && !RUNNABLE_BASES.has(model.base))
    notes.push(
      `the image was made with a ${model.base.slice(0, 20)} model, which this app does not run; the values will not make the same image`,
    );
  leftOutNotes(f, notes);
  return { request, notes, ...(model.name ? { model: model.name } : {}) };
}

/** Form values from an InvokeAI PNG's text chunks, or undefined when it has none of InvokeAI's. */
export function invokeToRequest(texts: Record<string, string>): ParametersImport | undefined {
  const key = ['invokeai_metadata', 'invokeai'].find((k) => texts[k] !== undefined);
  if (key) {
    const values = jsonObject(texts[key], key);
    if (typeof values === 'string')
      return { request: {}, notes: [`this PNG comes from InvokeAI, but its parameters could not be read: ${values}`] };
    return readMetadata(new Fields(values, []));
  }
  return invokeLegacyToRequest(texts);
}
