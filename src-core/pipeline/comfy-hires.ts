// A ComfyUI hires fix graph's second pass (comfy-hires-chain.ts finds it) as this app's hires fix fields: the size it
// samples at as an upscale factor or a resize, the upscaler, and the second KSampler's steps, denoise, sampler,
// scheduler, cfg and prompts; a note wherever ComfyUI computes the second pass differently from this app.
//
// What carries over exactly: ComfyUI's KSampler with denoise d runs `steps` steps, the last ones of a schedule of
// int(steps / d) (comfy/samplers.py KSampler.set_steps), which is how this app (as A1111) always runs hires fix's
// second pass (contract/images.ts img2imgSteps, exact). Its start noise is torch.randn on the CPU from the second
// KSampler's own seed (comfy/sample.py prepare_noise), where this app draws a fresh stream of the image's seed: the same
// numbers where the two seeds are equal. Its latent upscale methods are torch's interpolate (comfy/utils.py
// common_upscale), as A1111's latent upscalers are; "area" and "bislerp" have no counterpart here.
import { LIMITS, type GenerateRequestInput } from '../contract/generate.ts';
import { HIRES_UPSCALER_LABELS, type HiresUpscaler } from '../contract/images.ts';
import { hiresGeometry } from '../contract/hires-geometry.ts';
import { linkedNode, type ComfyGraph, type ComfyNode } from './comfy-graph.ts';
import { readChain, type ChainReading, type HiresPass, type InputReader, type Size } from './comfy-hires-chain.ts';
import { brownianSampler, readComfySampler, readComfySchedule } from './comfy-sampling.ts';
import { withinPromptLimit } from './metadata.ts';

type Request = Partial<GenerateRequestInput>;
type Hires = NonNullable<Request['hires']>;

export interface HiresContext {
  graph: ComfyGraph;
  reader: InputReader;
  notes: string[];
  /** The text a conditioning input was encoded from, its notes into `notes` (comfy-parameters.ts promptText). */
  promptOf(input: unknown, which: 'positive' | 'negative', notes: string[]): string | undefined;
}

/** ComfyUI's latent upscale methods that are A1111's (torch interpolate, no antialias): this app's latent upscalers. */
const LATENT_METHODS: Readonly<Record<string, HiresUpscaler>> = {
  bilinear: 'latent',
  bicubic: 'latent-bicubic',
  'nearest-exact': 'latent-nearest-exact',
};

const describe = (step: { node: ComfyNode; method: string }) =>
  step.node.type === 'ImageUpscaleWithModel' ? `the upscale model "${step.method.slice(0, 60)}"` : `"${step.method.slice(0, 40)}"`;

/** The hires upscaler for the chain's steps, with a note where ComfyUI's is not this app's. */
function upscalerOf(chain: ChainReading, notes: string[]): HiresUpscaler {
  const [only] = chain.steps;
  if (chain.steps.length === 1 && !only.pixels && Object.hasOwn(LATENT_METHODS, only.method)) {
    if (chain.throughPixels) notes.push('the graph decodes and encodes the latents between the passes; here they stay latents');
    return LATENT_METHODS[only.method];
  }
  const pixels = chain.throughPixels || chain.steps.some((s) => s.pixels);
  const used: HiresUpscaler = pixels ? 'lanczos' : 'latent';
  if (pixels && chain.steps.every((s) => s.pixels && s.method === 'lanczos'))
    notes.push("ComfyUI's Lanczos resize takes the decoded image truncated to 8 bits, where this app rounds it; a slight difference");
  else
    notes.push(
      `ComfyUI upscales ${pixels ? 'the decoded image' : 'the latents'} with ${chain.steps.map(describe).join(', then ')}, ` +
        `which this app does not have; its hires upscaler is set to ${HIRES_UPSCALER_LABELS[used]}`,
    );
  return used;
}

const sameSize = (a: Size, b: Size) => a.width === b.width && a.height === b.height;

/** The hires fields whose geometry (contract/hires-geometry.ts) gives ComfyUI's size, preferring a factor; else a note. */
function sizeFields(first: Size | undefined, chain: ChainReading, pixels: boolean, notes: string[]): Partial<Hires> | undefined {
  const { size, scale } = chain;
  const validScale = (s: number | undefined) => s !== undefined && s > 1 && s <= 4;
  if (!first || !size) {
    if (validScale(scale)) return { scale };
    notes.push("the second pass's size cannot be worked out from the graph; hires fix is left off");
    return undefined;
  }
  if (size.width <= first.width && size.height <= first.height) {
    notes.push(`the second pass does not enlarge the image (${size.width}x${size.height}); hires fix is left off`);
    return undefined;
  }
  const even = size.width * first.height === size.height * first.width ? size.width / first.width : undefined;
  const candidates: Array<Partial<Hires>> = [
    ...[scale, even].filter(validScale).map((s) => ({ scale: s })),
    { resizeWidth: size.width },
    { resizeHeight: size.height },
  ];
  const geometry = (fields: Partial<Hires>) => {
    const resize = fields.scale ? undefined : { width: fields.resizeWidth ?? 0, height: fields.resizeHeight ?? 0 };
    try {
      return hiresGeometry(first, resize ? { resize } : { scale: fields.scale }, 8, pixels);
    } catch {
      return undefined;
    }
  };
  for (const fields of candidates) {
    const g = geometry(fields);
    if (g && sameSize(g.output, size) && sameSize(g.upscale, size)) return fields;
  }
  const both = { resizeWidth: size.width, resizeHeight: size.height };
  const cropped = size.width <= LIMITS.imageSide && size.height <= LIMITS.imageSide ? geometry(both) : undefined;
  if (!cropped) {
    notes.push(`the second pass's size ${size.width}x${size.height} is beyond what hires fix makes here; hires fix is left off`);
    return undefined;
  }
  notes.push(
    `ComfyUI ${chain.crops ? 'crops and ' : ''}stretches the image to ${size.width}x${size.height}; here it is resized keeping ` +
      `its aspect and cropped, to ${cropped.output.width}x${cropped.output.height}`,
  );
  return both;
}

/** The second KSampler's steps, denoise and cfg; false (with a note) where it denoises nothing. */
function samplingFields(ctx: HiresContext, sampler: ComfyNode, hires: Hires): boolean {
  const { reader, notes } = ctx;
  const denoise = reader.number(sampler, 'denoise', 'hires strength');
  if (denoise !== undefined && !(denoise > 0)) {
    notes.push(`the second pass denoises nothing (denoise ${denoise}), so the image is the upscaled first pass; hires fix is left off`);
    return false;
  }
  if (denoise !== undefined) hires.strength = Math.min(denoise, 1); // ComfyUI runs any denoise over 0.9999 as 1
  const steps = reader.number(sampler, 'steps', 'hires steps');
  if (steps !== undefined && Number.isInteger(steps) && steps >= 1 && steps <= LIMITS.steps) hires.steps = steps;
  else if (steps !== undefined) notes.push(`the second pass's steps ${steps} are not 1 to ${LIMITS.steps}; it takes the first pass's`);
  const cfg = reader.number(sampler, 'cfg', 'hires CFG scale');
  if (cfg !== undefined && cfg >= 0 && cfg <= LIMITS.cfgScale) hires.cfgScale = cfg;
  else if (cfg !== undefined) notes.push(`the second pass's cfg ${cfg} is not 0 to ${LIMITS.cfgScale}; it takes the first pass's`);
  return true;
}

/** The second KSampler's sampler and scheduler into the hires fields, with notes not already given for the first pass. */
function samplerFields(ctx: HiresContext, sampler: ComfyNode, hires: Hires, firstSampler: Request['sampler']): void {
  const own: string[] = [],
    read: Request = {};
  const name = ctx.reader.text(sampler, 'sampler_name', 'hires sampler');
  if (name !== undefined) readComfySampler(name, read, own, "the second pass uses the first pass's sampler");
  const schedule = ctx.reader.text(sampler, 'scheduler', 'hires schedule');
  if (schedule !== undefined) readComfySchedule(schedule, read, own, "the second pass uses the first pass's schedule");
  if (read.sampler) hires.sampler = read.sampler;
  if (read.schedule) hires.schedule = read.schedule;
  if (brownianSampler(read.sampler ?? firstSampler))
    own.push(
      "ComfyUI spans the second pass's Brownian tree over the part of the schedule it runs; here, as in A1111, over the " +
        'whole schedule, so the image will differ from the original',
    );
  ctx.notes.push(...own.filter((note) => !ctx.notes.includes(note)));
}

/** The second pass's prompts where its conditioning is not the first pass's; their texts for the syntax notes. */
function promptFields(ctx: HiresContext, first: ComfyNode, second: ComfyNode, hires: Hires, firstTexts: FirstTexts): string[] {
  const texts: string[] = [];
  for (const [which, field] of [
    ['positive', 'prompt'],
    ['negative', 'negativePrompt'],
  ] as const) {
    if (linkedNode(ctx.graph, second.inputs[which]) === linkedNode(ctx.graph, first.inputs[which])) continue;
    const own: string[] = [];
    const text = ctx.promptOf(second.inputs[which], which, own);
    ctx.notes.push(...own.map((note) => `in the second pass, ${note}`));
    if (text === undefined || text === firstTexts[which]) continue;
    hires[field] = withinPromptLimit(text, `hires ${which} prompt`, ctx.notes);
    texts.push(text);
  }
  return texts;
}

/** The first pass's prompt texts as the graph encodes them (without the LoRA tags the form adds). */
export type FirstTexts = { positive?: string; negative?: string };

/**
 * The hires pass into request.hires; returns the second pass's own prompt texts. `request` must hold the first pass's
 * values (size, seed, sampler) already.
 */
export function readHiresPass(ctx: HiresContext, first: ComfyNode, pass: HiresPass, request: Request, firstTexts: FirstTexts): string[] {
  const { graph, reader, notes } = ctx;
  if (linkedNode(graph, first.inputs.latent_image)?.type !== 'EmptyLatentImage') {
    notes.push(`the first pass is not text to image, and hires fix is for text to image here; the second pass is left out`);
    return [];
  }
  const firstSize =
    request.width !== undefined && request.height !== undefined ? { width: request.width, height: request.height } : undefined;
  const chain = readChain(reader, graph, pass.chain, firstSize, notes);
  if (!chain) return [];
  const hires: Hires = {},
    upscaleNotes: string[] = [];
  const upscaler = upscalerOf(chain, upscaleNotes);
  const size = sizeFields(firstSize, chain, upscaler === 'lanczos', notes);
  if (!size || !samplingFields(ctx, pass.sampler, hires)) return [];
  notes.push(...upscaleNotes);
  Object.assign(hires, size, { upscaler });
  samplerFields(ctx, pass.sampler, hires, request.sampler);
  const seed = reader.number(pass.sampler, 'seed', 'seed');
  if (seed !== undefined && seed !== request.seed)
    notes.push(
      `the second pass has its own seed (${seed}); here hires fix draws its noise from the image's seed, ` +
        "as A1111 does, so the second pass's noise will differ",
    );
  if (linkedNode(graph, pass.sampler.inputs.model) !== linkedNode(graph, first.inputs.model))
    notes.push("the second pass samples with another model chain; here both passes use the first pass's model and LoRAs");
  const texts = promptFields(ctx, first, pass.sampler, hires, firstTexts);
  request.hires = hires;
  return texts;
}
