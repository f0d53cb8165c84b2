// Between a generation request and A1111-style PNG parameters, in both directions.
import { LIMITS, type GenerateRequest, type GenerateRequestInput, type RestartSettings } from '../contract/generate.ts';
import { formatParameters, parseParameters } from '../png/parameters.ts';
import { pythonFloat, pythonInt } from './python-numbers.ts';
import { unappliedNotes } from './a1111-unapplied.ts';
import { readScheduleSettings, scheduleSettingValues } from './metadata-schedule.ts';
import { churnValues, readChurnSettings } from './metadata-churn.ts';
import { SAMPLERS, type SamplerName } from '../samplers/index.ts';
import { img2imgValues, readImg2imgValues, readNoiseMultiplier } from './metadata-img2img.ts';
import { BETA_SCHEDULE_DEFAULTS } from '../schedule/a1111-schedules.ts';
import { seedResizeOf } from './image-seeds.ts';
import { AUTOMATIC_SCHEDULE, SCHEDULE_BY_LABEL, SCHEDULE_LABELS } from './schedule-labels.ts';

/** 0.2.0: "Noise multiplier" is A1111's img2img one; 0.1.0 wrote the samplers' s_noise under that key. */
export const APP_VERSION = 'Restart Studio 0.2.0';

const RNG_LABELS: Record<GenerateRequest['noiseSource'], string> = { default: 'default', 'torch-cpu': 'CPU', 'torch-cuda': 'NV' };
/** A1111's names of its emphasis modes (its "None", no parsing at all, has no counterpart here). */
const EMPHASIS_LABELS: Record<GenerateRequest['emphasis'], string> = { original: 'Original', 'no-norm': 'No norm', ignore: 'Ignore' };

export interface ImageFacts {
  seed: number;
  /** The image's variation seed, where the request varies its noise (A1111 writes it only then). */
  variationSeed?: number;
  width: number;
  height: number;
  model: string;
  evaluations: number;
  /** A1111's "Lora hashes" and "TI hashes" ("name: shorthash, ..."), for the LoRAs and embeddings the prompt used. */
  loraHashes?: string;
  tiHashes?: string;
  /** The prompt and negative prompt were padded with empty chunks to one length (A1111's "Pad conds: True"). */
  padConds?: boolean;
}

function restartValues(restart: RestartSettings | undefined): Array<[string, string | undefined]> {
  if (!restart) return [['Restart preset', 'a1111']];
  if ('preset' in restart) return [['Restart preset', restart.preset]];
  return [
    ['Restart segments', JSON.stringify(restart.segments)],
    ['Restart gamma', restart.restartGamma?.toString()],
    ['Restart s_min', restart.sMin?.toString()],
    ['Restart s_max', restart.sMax?.toString()],
  ];
}

/**
 * SDXL's original size and crop where they are not the defaults (A1111 writes neither: its crop is a global
 * setting and its original size is the image size), so that a PNG brings them back.
 */
function sizeConditioningValues(request: GenerateRequest, facts: ImageFacts): Array<[string, string | number | undefined]> {
  const width = request.originalWidth ?? facts.width,
    height = request.originalHeight ?? facts.height;
  return [
    ['Original size', width !== facts.width || height !== facts.height ? `${width}x${height}` : undefined],
    ['Crop top', request.cropTop ? request.cropTop : undefined],
    ['Crop left', request.cropLeft ? request.cropLeft : undefined],
  ];
}

/** A1111's "Variation seed" and "Variation seed strength", written (after "Model", as A1111 orders them) only when varied. */
function variationValues(request: GenerateRequest, facts: ImageFacts): Array<[string, number | undefined]> {
  if (!request.variationStrength || facts.variationSeed === undefined) return [];
  return [
    ['Variation seed', facts.variationSeed],
    ['Variation seed strength', request.variationStrength],
  ];
}

/** A1111's "Seed resize from: WxH" (after the variation keys), written when both sides are over 0, as A1111 does. */
function seedResizeValue(request: GenerateRequest): [string, string | undefined] {
  const size = seedResizeOf(request);
  return ['Seed resize from', size && `${size.width}x${size.height}`];
}

/** Whether a pass samples on the Beta schedule: the first, or hires fix's where its own schedule is set (DDIM has its grid). */
function usesBetaSchedule(request: GenerateRequest): boolean {
  const hiresSampler = request.hires?.sampler ?? request.sampler;
  return (request.schedule === 'beta' && request.sampler !== 'ddim') || (request.hires?.schedule === 'beta' && hiresSampler !== 'ddim');
}

export function requestToParameters(request: GenerateRequest, facts: ImageFacts): string {
  const sampler = request.sampler as SamplerName;
  return formatParameters(request.prompt, request.negativePrompt, [
    ['Steps', request.steps],
    ['Sampler', SAMPLERS[sampler].label],
    ['Schedule type', sampler === 'ddim' ? undefined : SCHEDULE_LABELS[request.schedule]],
    ['CFG scale', request.cfgScale],
    ['Seed', facts.seed],
    ['Size', `${facts.width}x${facts.height}`],
    ['Model', facts.model],
    ...variationValues(request, facts),
    seedResizeValue(request),
    ['RNG', RNG_LABELS[request.noiseSource]],
    ['Eta', request.eta],
    // A1111's key for the samplers' s_noise ("Noise multiplier" is its img2img noise multiplier).
    ['Sigma noise', request.sNoise],
    ...churnValues(request),
    ...scheduleSettingValues(request),
    ...(sampler === 'restart' ? restartValues(request.restart) : []),
    ['Timestep', request.timestepMode === 'nearest' ? 'nearest' : undefined],
    // A1111 writes its Beta schedule's alpha and beta with it, in either pass (always 0.6 here, its defaults).
    ['Beta schedule alpha', usesBetaSchedule(request) ? BETA_SCHEDULE_DEFAULTS.alpha : undefined],
    ['Beta schedule beta', usesBetaSchedule(request) ? BETA_SCHEDULE_DEFAULTS.beta : undefined],
    ['Emphasis', request.emphasis === 'original' ? undefined : EMPHASIS_LABELS[request.emphasis]],
    // As A1111: only above 1 (SD 2 and SDXL requests have lost it by now: model/clip-skip.ts).
    ['Clip skip', request.clipSkip !== undefined && request.clipSkip > 1 ? request.clipSkip : undefined],
    // A1111 writes it after Clip skip, for the samplers it names "uses_ensd"; here whenever it is on, for every sampler
    // that draws noise after the start follows it (LCM and Restart too), and A1111 reads it back the same.
    ['ENSD', request.etaNoiseSeedDelta ? request.etaNoiseSeedDelta : undefined],
    ['Pad conds', facts.padConds ? 'True' : undefined],
    ...sizeConditioningValues(request, facts),
    ...img2imgValues(request),
    ['Lora hashes', facts.loraHashes],
    ['TI hashes', facts.tiHashes],
    ['NFE', facts.evaluations],
    ['Version', APP_VERSION],
  ]);
}

export interface ParametersImport {
  request: Partial<GenerateRequestInput>;
  /** Things in the file we could not carry over, in words. */
  notes: string[];
  model?: string;
  /** "Lora hashes" and "TI hashes" as the file has them (the caller checks which are missing here: adapters/). */
  loraHashes?: string;
  tiHashes?: string;
}

const SAMPLER_BY_LABEL = new Map(Object.entries(SAMPLERS).map(([name, def]) => [def.label.toLowerCase(), name as SamplerName]));

/**
 * A number field of the file, read as A1111 pastes it: float() of its text, even for fields that hold an int
 * (its connect_paste converts with float() where the component's value is an int: Steps, Seed, Size), so "1e3"
 * is 1000 and " 20 " is 20, while "0x14" is not read. A1111 then leaves the field as it was; here too, with a
 * note. inf and nan are numbers to float(), but no field here takes them: left out with a note.
 */
function numberField(values: Record<string, string>, key: string, notes: string[]): number | undefined {
  const text = values[key];
  if (text === undefined) return undefined;
  const n = pythonFloat(text);
  const shown = JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}…` : text);
  if (n === undefined) notes.push(`${key} ${shown} in the file is not a number; keeping the current value`);
  else if (!Number.isFinite(n)) notes.push(`${key} ${shown} in the file is not a finite number; keeping the current value`);
  else return n;
  return undefined;
}

/**
 * A1111's "WxH" (re_imagesize, ^(\d+)x(\d+)$ in Python: \d is any script's decimal digit, $ also matches before a
 * final newline), each side then read with float() as the form's fields are.
 */
function sizeOf(text: string | undefined): [number, number] | undefined {
  const m = /^(\p{Nd}+)x(\p{Nd}+)\n?$/u.exec(text ?? '');
  if (!m) return undefined;
  const width = pythonFloat(m[1]),
    height = pythonFloat(m[2]);
  return width === undefined || height === undefined ? undefined : [width, height];
}

const thousands = (n: number) => String(n).replace(/\B(?=(\d{3})+$)/g, ',');

/** The form takes no more than the contract accepts: a longer prompt is cut to the limit, with a note. */
export function withinPromptLimit(text: string, what: string, notes: string[]): string {
  if (text.length <= LIMITS.promptChars) return text;
  notes.push(
    `the ${what} in the file is ${thousands(text.length)} characters long; ` +
      `only its first ${thousands(LIMITS.promptChars)} were kept (the limit)`,
  );
  const cut = text.slice(0, LIMITS.promptChars);
  return /[\ud800-\udbff]$/.test(cut) ? cut.slice(0, -1) : cut; // never half a surrogate pair
}

/**
 * "Variation seed" and "Variation seed strength" as A1111 pastes them (float() of each). A file without a strength was
 * made without variation: no variation fields (the form turns it off). "Seed resize from: WxH" is read as A1111 reads
 * it (re_imagesize, then width and height); one that is not WxH is left out with a note.
 */
function readVariation(v: Record<string, string>, request: Partial<GenerateRequestInput>, notes: string[]): void {
  const variationSeed = numberField(v, 'Variation seed', notes),
    variationStrength = numberField(v, 'Variation seed strength', notes);
  if (variationSeed !== undefined) request.variationSeed = variationSeed;
  if (variationStrength !== undefined) request.variationStrength = variationStrength;
  const resizeText = v['Seed resize from'];
  if (resizeText === undefined) return;
  const resize = sizeOf(resizeText);
  if (resize) [request.seedResizeFromWidth, request.seedResizeFromHeight] = resize;
  else notes.push(`Seed resize from ${JSON.stringify(resizeText.slice(0, 40))} in the file is not WIDTHxHEIGHT; leaving seed resize off`);
}

/**
 * "Clip skip", read as A1111 reads it into its int setting: int() of the text ("2 " is 2). Absent means 1 to A1111,
 * the form's default, so nothing is set; a value that is not a whole number from 1 to 12 gets a note.
 */
function readClipSkip(values: Record<string, string>, request: Partial<GenerateRequestInput>, notes: string[]): void {
  const text = values['Clip skip'];
  if (text === undefined) return;
  const k = pythonInt(text);
  if (k !== undefined && k >= 1 && k <= LIMITS.clipSkip) request.clipSkip = k;
  else notes.push(`Clip skip ${JSON.stringify(text.slice(0, 40))} in the file is not a whole number from 1 to ${LIMITS.clipSkip}; using 1`);
}

/** "ENSD" (A1111's eta_noise_seed_delta setting, pasted as an int): a whole number from 0 up, or a note. */
function readSeedDelta(values: Record<string, string>, request: Partial<GenerateRequestInput>, notes: string[]): void {
  const text = values.ENSD;
  if (text === undefined) return;
  const delta = pythonInt(text);
  if (delta !== undefined && delta >= 0 && delta <= LIMITS.etaNoiseSeedDelta) request.etaNoiseSeedDelta = delta;
  else {
    const shown = JSON.stringify(text.slice(0, 40));
    notes.push(`ENSD ${shown} in the file is not a whole number from 0 to ${LIMITS.etaNoiseSeedDelta}; using 0`);
  }
}

/** Reads A1111/Fooocus/our own parameters text into form values. */
export function parametersToRequest(text: string): ParametersImport {
  const parsed = parseParameters(text);
  const v = parsed.values;
  const notes: string[] = [];
  const request: Partial<GenerateRequestInput> = {
    prompt: withinPromptLimit(parsed.prompt, 'prompt', notes),
    negativePrompt: withinPromptLimit(parsed.negativePrompt, 'negative prompt', notes),
  };
  const steps = numberField(v, 'Steps', notes),
    cfg = numberField(v, 'CFG scale', notes),
    seed = numberField(v, 'Seed', notes);
  if (steps !== undefined) request.steps = steps;
  if (cfg !== undefined) request.cfgScale = cfg;
  if (seed !== undefined) request.seed = seed;
  const size = sizeOf(v.Size);
  if (size) [request.width, request.height] = size;
  readVariation(v, request, notes);

  let samplerLabel = (v.Sampler ?? '').trim();
  let schedule = (v['Schedule type'] ?? '').trim().toLowerCase();
  // Older A1111 versions put the schedule into the sampler name ("DPM++ 2M Karras", "DPM++ 3M SDE Exponential").
  const suffix = / (karras|exponential)$/i.exec(samplerLabel);
  if (suffix) {
    samplerLabel = samplerLabel.slice(0, suffix.index);
    schedule = suffix[1].toLowerCase();
  }
  if (samplerLabel) {
    const sampler = SAMPLER_BY_LABEL.get(samplerLabel.toLowerCase());
    if (sampler) request.sampler = sampler;
    else notes.push(`sampler "${samplerLabel}" is not available here; keeping the current sampler`);
    // A1111's Brownian trees are the engine's (noise/brownian-noise.ts); Fooocus runs ComfyUI's "_gpu" SDE samplers.
    if (sampler && SAMPLERS[sampler].brownianNoise && /^\s*Fooocus/i.test(v.Version ?? '')) {
      notes.push(
        `${SAMPLERS[sampler].label} in Fooocus draws its noise from a Brownian tree built on the GPU while its start noise ` +
          "comes from the CPU's generator; here both come from one noise source, so the image will differ from the original",
      );
    }
  }
  if (schedule === 'automatic') request.schedule = request.sampler ? AUTOMATIC_SCHEDULE[request.sampler] : 'normal';
  else if (SCHEDULE_BY_LABEL.has(schedule)) request.schedule = SCHEDULE_BY_LABEL.get(schedule);
  else if (schedule) notes.push(`schedule type "${v['Schedule type']}" is not available here; keeping the current schedule`);

  // A1111: no RNG key means its GPU (CUDA Philox) generator.
  const rng = (v.RNG ?? 'GPU').trim();
  if (rng === 'CPU') request.noiseSource = 'torch-cpu';
  else if (rng === 'GPU' || rng === 'NV') request.noiseSource = 'torch-cuda';
  else if (rng === 'default') request.noiseSource = 'default';
  else notes.push(`noise source "${rng}" is not available here`);

  // This app wrote the samplers' s_noise as "Noise multiplier" before it wrote A1111's "Sigma noise".
  // This app's 0.1.0 files held the samplers' s_noise under "Noise multiplier".
  const legacySNoise = /^\s*Restart Studio 0\.1\.0\s*$/.test(v.Version ?? '');
  const eta = numberField(v, 'Eta', notes),
    sNoise = numberField(v, legacySNoise ? 'Noise multiplier' : 'Sigma noise', notes);
  if (!legacySNoise) readNoiseMultiplier(v, request, notes);
  notes.push(...unappliedNotes(v));
  readScheduleSettings(v, request, notes);
  readChurnSettings(v, request, notes);
  if (eta !== undefined) request.eta = eta;
  if (sNoise !== undefined) request.sNoise = sNoise;
  if (request.sampler === 'restart') {
    if (v['Restart segments']) {
      try {
        const segments: unknown = JSON.parse(v['Restart segments']);
        const restartGamma = numberField(v, 'Restart gamma', notes),
          sMin = numberField(v, 'Restart s_min', notes),
          sMax = numberField(v, 'Restart s_max', notes);
        request.restart = {
          segments: segments as Extract<RestartSettings, { segments: unknown }>['segments'],
          ...(restartGamma !== undefined ? { restartGamma } : {}),
          ...(sMin !== undefined ? { sMin } : {}),
          ...(sMax !== undefined ? { sMax } : {}),
        };
      } catch {
        notes.push('the Restart segments in the file are not readable; using the a1111 preset');
        request.restart = { preset: 'a1111' };
      }
    } else {
      request.restart = { preset: v['Restart preset']?.trim() === 'sd' ? 'sd' : 'a1111' };
    }
  }
  if (v.Timestep?.trim() === 'nearest') request.timestepMode = 'nearest'; // values keep their spaces, as in A1111
  for (const [key, fallback] of [
    ['Beta schedule alpha', BETA_SCHEDULE_DEFAULTS.alpha],
    ['Beta schedule beta', BETA_SCHEDULE_DEFAULTS.beta],
  ] as const) {
    if (v[key] !== undefined && Number(v[key]) !== fallback)
      notes.push(`${key} ${v[key].trim()} is not available here: the Beta schedule uses ${fallback}`);
  }
  const emphasis = (v.Emphasis ?? '').trim();
  if (emphasis) {
    const mode = (Object.keys(EMPHASIS_LABELS) as Array<GenerateRequest['emphasis']>).find(
      (m) => EMPHASIS_LABELS[m].toLowerCase() === emphasis.toLowerCase(),
    );
    if (mode) request.emphasis = mode;
    else notes.push(`emphasis mode "${emphasis}" is not available here; using Original (brackets are read as weights)`);
  }
  if ((v['Pad conds'] ?? '').trim() === 'True') {
    notes.push(
      'the file\'s image was made with its prompt and negative prompt padded to one length ("Pad conds"); here each ' +
        'keeps its own length (as in A1111 by default), so this image will differ somewhat',
    );
  }
  readImg2imgValues(v, request, notes);
  const original = sizeOf(v['Original size']);
  if (original) [request.originalWidth, request.originalHeight] = original;
  const cropTop = numberField(v, 'Crop top', notes),
    cropLeft = numberField(v, 'Crop left', notes);
  if (cropTop !== undefined) request.cropTop = cropTop;
  if (cropLeft !== undefined) request.cropLeft = cropLeft;
  readClipSkip(v, request, notes);
  readSeedDelta(v, request, notes);
  return {
    request,
    notes,
    model: v.Model,
    ...(v['Lora hashes'] ? { loraHashes: v['Lora hashes'] } : {}),
    ...(v['TI hashes'] ? { tiHashes: v['TI hashes'] } : {}),
  };
}
