// A ComfyUI PNG's "prompt" graph as form values: the first sampling pass (KSampler or KSamplerAdvanced), its
// prompts (CLIPTextEncode, CLIPTextEncodeSDXL), latent size and batch, checkpoint, LoRAs and clip skip, and a second
// KSampler on its upscaled output as hires fix (comfy-hires.ts); a note for
// everything the form cannot hold. Names from ComfyUI's nodes.py and comfy/samplers.py (KSampler.SAMPLERS, SCHEDULERS).
import type { GenerateRequestInput } from '../contract/generate.ts';
import {
  ComfyGraphError,
  isLink,
  linkedNode,
  MAX_LINK_DEPTH,
  parseComfyGraph,
  resolveLiteral,
  type ComfyGraph,
  type ComfyNode,
} from './comfy-graph.ts';
import { hiresPasses, type HiresPass } from './comfy-hires-chain.ts';
import { readHiresPass } from './comfy-hires.ts';
import { leftOut, modelFacts } from './comfy-models.ts';
import { brownianSampler, readComfySampler, readComfySchedule } from './comfy-sampling.ts';
import { withinPromptLimit, type ParametersImport } from './metadata.ts';

type Request = Partial<GenerateRequestInput>;

const SAMPLER_NODES = new Set(['KSampler', 'KSamplerAdvanced']);

/** Where a sampler's latent can come from on the way back to an earlier pass. */
const LATENT_INPUTS = ['latent_image', 'samples', 'latent', 'pixels', 'image'];

/** Whether a sampler continues another sampler's output (a refiner, hires or second pass). */
function continuesAnotherPass(graph: ComfyGraph, sampler: ComfyNode): boolean {
  let node: ComfyNode | undefined = sampler;
  for (let depth = 0; node && depth <= MAX_LINK_DEPTH; depth++) {
    const input: unknown = LATENT_INPUTS.map((key) => node!.inputs[key]).find(isLink);
    node = linkedNode(graph, input);
    if (node && SAMPLER_NODES.has(node.type)) return true;
  }
  return false;
}

const byId = (a: ComfyNode, b: ComfyNode) => Number(a.id) - Number(b.id) || a.id.localeCompare(b.id);

/** The first sampling pass, and the hires fix pass that refines its upscaled output (comfy-hires.ts) if there is one. */
function firstPass(graph: ComfyGraph, samplers: ComfyNode[], notes: string[]): { first: ComfyNode; hires?: HiresPass } {
  const sorted = [...samplers].sort(byId);
  const first = sorted.find((s) => !continuesAnotherPass(graph, s)) ?? sorted[0];
  const [hires] = hiresPasses(graph, first, sorted);
  if (samplers.length > (hires ? 2 : 1))
    notes.push(
      `this ComfyUI graph has ${samplers.length} sampling nodes (a refiner, hires or second pass); the form takes the first pass ` +
        `(${first.type} node ${first.id})${hires ? ` and its hires fix (KSampler node ${hires.sampler.id})` : ''}; the others are left out`,
    );
  return hires ? { first, hires } : { first };
}

/** Reads the inputs of one node into the request, with a note for each one it cannot use. */
class NodeReader {
  constructor(
    private readonly graph: ComfyGraph,
    private readonly notes: string[],
  ) {}

  number(node: ComfyNode, key: string, keeping: string): number | undefined {
    const read = resolveLiteral(this.graph, node.inputs[key], 'number');
    if ('value' in read && Number.isFinite(read.value)) return read.value;
    this.notes.push(`the ${node.type} node's ${key} ${'problem' in read ? read.problem : 'is not finite'}; keeping the current ${keeping}`);
    return undefined;
  }

  text(node: ComfyNode, key: string, keeping: string): string | undefined {
    const read = resolveLiteral(this.graph, node.inputs[key], 'string');
    if ('value' in read) return read.value;
    this.notes.push(`the ${node.type} node's ${key} ${read.problem}; keeping the current ${keeping}`);
    return undefined;
  }
}

function readSampler(reader: NodeReader, node: ComfyNode, request: Request, notes: string[]): void {
  const advanced = node.type === 'KSamplerAdvanced';
  const seed = reader.number(node, advanced ? 'noise_seed' : 'seed', 'seed');
  if (seed !== undefined && Number.isSafeInteger(seed) && seed >= 0) request.seed = seed;
  else if (seed !== undefined) notes.push(`the seed ${seed} is outside what this app takes (0 to 2^53 - 1); keeping the current seed`);
  const steps = reader.number(node, 'steps', 'steps');
  if (steps !== undefined) request.steps = steps;
  const cfg = reader.number(node, 'cfg', 'CFG scale');
  if (cfg !== undefined) request.cfgScale = cfg;

  const sampler = reader.text(node, 'sampler_name', 'sampler');
  if (sampler !== undefined) readComfySampler(sampler, request, notes);
  const schedule = reader.text(node, 'scheduler', 'schedule');
  if (schedule !== undefined) readComfySchedule(schedule, request, notes);

  if (!advanced) return;
  // KSamplerAdvanced: a pass may start late, stop early or skip the noise (its refiner and two-pass graphs).
  if (reader.text(node, 'add_noise', 'noise') === 'disable')
    notes.push('the first sampler adds no noise (add_noise: disable); here sampling starts from noise');
  const start = reader.number(node, 'start_at_step', 'steps'),
    end = reader.number(node, 'end_at_step', 'steps');
  if (start !== undefined && start > 0) notes.push(`the first sampler starts at step ${start}; here all steps run from the start`);
  if (end !== undefined && steps !== undefined && end < steps)
    notes.push(`the first sampler stops at step ${end} of ${steps} and hands the rest over; here all ${steps} steps run`);
}

/** EmptyLatentImage's size and batch; an encoded image (VAEEncode) makes it img2img at the sampler's denoise. */
function readLatent(reader: NodeReader, graph: ComfyGraph, sampler: ComfyNode, request: Request, notes: string[]): void {
  const latent = linkedNode(graph, sampler.inputs.latent_image);
  const denoise = sampler.type === 'KSampler' ? reader.number(sampler, 'denoise', 'denoise') : undefined;
  const partial = denoise !== undefined && denoise < 1;
  if (latent?.type === 'EmptyLatentImage') {
    const width = reader.number(latent, 'width', 'width'),
      height = reader.number(latent, 'height', 'height'),
      batch = reader.number(latent, 'batch_size', 'batch size');
    if (width !== undefined) request.width = width;
    if (height !== undefined) request.height = height;
    if (batch !== undefined && batch !== 1) {
      request.batchSize = batch;
      notes.push(
        `ComfyUI draws the noise of all ${batch} images in a batch from one generator; ` +
          'the first image matches, the others here use seed + 1, seed + 2... and will differ',
      );
    }
    if (partial) notes.push(`the sampler denoises an empty latent only partly (denoise ${denoise}); here the whole schedule runs`);
  } else if (latent?.type === 'VAEEncode' && partial) {
    // ComfyUI runs `steps` steps of a steps / denoise schedule: the app's exact-steps img2img.
    request.strength = denoise;
    request.exactSteps = true;
    if (brownianSampler(request.sampler))
      notes.push(
        "ComfyUI spans an SDE sampler's Brownian tree over the part of the schedule it runs; here, as in A1111, over the " +
          'whole schedule, so the image will differ from the original',
      );
  } else {
    notes.push(`the sampler's latent comes from ${latent ? `a ${latent.type} node (${latent.id})` : 'no node'}; the size is not read`);
  }
}

/** The text a conditioning input was encoded from, following nodes that pass conditioning through. */
function promptText(
  reader: NodeReader,
  graph: ComfyGraph,
  input: unknown,
  which: 'positive' | 'negative',
  request: Request,
  notes: string[],
): { text?: string; node?: ComfyNode } {
  const keeping = `${which} prompt`;
  const passed: ComfyNode[] = [];
  const seen = new Set<string>();
  const result = (found: { text?: string; node?: ComfyNode }) => {
    if (passed.length > 0) notes.push(`the ${which} conditioning passes through ${leftOut(passed)}, left out here`);
    return found;
  };
  let link = input;
  for (let depth = 0; depth <= MAX_LINK_DEPTH; depth++) {
    const node = linkedNode(graph, link);
    if (!node || seen.has(node.id)) break;
    seen.add(node.id);
    if (node.type === 'CLIPTextEncode') return result({ text: reader.text(node, 'text', keeping), node });
    if (node.type === 'CLIPTextEncodeSDXL') return result({ text: sdxlText(reader, node, which, request, notes), node });
    if (node.type === 'ConditioningZeroOut' && which === 'negative') {
      notes.push('the negative conditioning is zeroed (ConditioningZeroOut), not an encoded prompt; here it is an empty prompt');
      return result({ text: '' });
    }
    const through = isLink(node.inputs.conditioning) ? node.inputs.conditioning : node.inputs[which];
    if (!isLink(through)) {
      notes.push(
        `the ${which} prompt comes from a ${node.type} node (${node.id}), which this app cannot read; keeping the current ${keeping}`,
      );
      return result({});
    }
    passed.push(node);
    link = through;
  }
  notes.push(`the ${which} conditioning could not be followed to a prompt; keeping the current ${keeping}`);
  return result({});
}

/** SDXL's encoder node: one prompt here for both encoders, and its size conditioning (positive side only). */
function sdxlText(reader: NodeReader, node: ComfyNode, which: string, request: Request, notes: string[]): string | undefined {
  const g = reader.text(node, 'text_g', `${which} prompt`),
    l = reader.text(node, 'text_l', `${which} prompt`);
  if (g !== undefined && l !== undefined && g !== l)
    notes.push(`the ${which} prompt has a different text_l (CLIP-L) and text_g; here text_g is used for both encoders`);
  if (which === 'positive') {
    const size = (key: string) => reader.number(node, key, 'size conditioning');
    const [width, height, cropW, cropH] = [size('width'), size('height'), size('crop_w'), size('crop_h')];
    const [targetW, targetH] = [size('target_width'), size('target_height')];
    if (width !== undefined && height !== undefined) [request.originalWidth, request.originalHeight] = [width, height];
    if (cropW !== undefined) request.cropLeft = cropW;
    if (cropH !== undefined) request.cropTop = cropH;
    if (targetW !== undefined && targetH !== undefined && (targetW !== request.width || targetH !== request.height))
      notes.push(`the SDXL target size ${targetW}x${targetH} differs from the image size; here the target is the image size`);
  }
  return g;
}

/** Notes on prompt text that means something else here than in ComfyUI. */
function syntaxNotes(texts: Array<string | undefined>, notes: string[]): void {
  if (texts.some((t) => t && /[()]/.test(t)))
    notes.push(
      'ComfyUI applies (word:1.2) weights its own way (relative to an empty prompt); ' +
        "here they follow A1111's emphasis, so the image will differ somewhat",
    );
  if (texts.some((t) => t && /<(lora|lyco|hypernet):/i.test(t)))
    notes.push('the prompt holds <lora:...> text, which ComfyUI encodes as words; here such tags load LoRAs');
}

/** Form values from the text of a ComfyUI PNG's "prompt" chunk. */
export function comfyToRequest(graphText: string): ParametersImport {
  let graph: ComfyGraph;
  try {
    graph = parseComfyGraph(graphText);
  } catch (error) {
    if (!(error instanceof ComfyGraphError)) throw error;
    return { request: {}, notes: [`this PNG comes from ComfyUI, but its parameters could not be read: ${error.message}`] };
  }
  const samplers = [...graph.values()].filter((n) => SAMPLER_NODES.has(n.type));
  if (samplers.length === 0) {
    const other = [...graph.values()].find((n) => /sampler/i.test(n.type));
    const why = other ? `samples with a ${other.type} node, which this app cannot read` : 'has no KSampler node';
    return { request: {}, notes: [`this ComfyUI graph ${why}; it cannot fill the form`] };
  }
  const notes: string[] = [];
  const request: Request = { noiseSource: 'torch-cpu' }; // comfy/sample.py prepare_noise: torch.randn on the CPU
  const reader = new NodeReader(graph, notes);
  const { first: sampler, hires } = firstPass(graph, samplers, notes);
  readSampler(reader, sampler, request, notes);
  readLatent(reader, graph, sampler, request, notes);
  const positive = promptText(reader, graph, sampler.inputs.positive, 'positive', request, notes);
  const negative = promptText(reader, graph, sampler.inputs.negative, 'negative', request, notes);
  const hiresContext = {
    graph,
    reader,
    notes,
    promptOf: (input: unknown, which: 'positive' | 'negative', own: string[]) => promptText(reader, graph, input, which, {}, own).text,
  };
  const firstTexts = { positive: positive.text, negative: negative.text };
  const hiresTexts = hires ? readHiresPass(hiresContext, sampler, hires, request, firstTexts) : [];
  syntaxNotes([positive.text, negative.text, ...hiresTexts], notes);
  const facts = modelFacts(graph, sampler, positive.node, notes);
  if (positive.text !== undefined) {
    const tagged = [positive.text, ...facts.loraTags].filter(Boolean).join(' ');
    request.prompt = withinPromptLimit(tagged, 'prompt', notes);
  } else if (facts.loraTags.length > 0) {
    notes.push(`the graph's LoRAs (${facts.loraTags.join(' ')}) are not added: its prompt was not read`);
  }
  if (negative.text !== undefined) request.negativePrompt = withinPromptLimit(negative.text, 'negative prompt', notes);
  if (facts.clipSkip !== undefined) request.clipSkip = facts.clipSkip;
  return { request, notes, ...(facts.model ? { model: facts.model } : {}) };
}
