// ComfyUI's "hires fix": a second KSampler refining the first pass's output, upscaled on the way either as latents
// (LatentUpscale, LatentUpscaleBy) or as pixels (VAEDecode -> ImageScale, ImageScaleBy, ImageUpscaleWithModel ->
// VAEEncode). This file finds that second pass and works out the size it samples at, as ComfyUI's nodes.py computes
// it (Python's round, the latents' // 8, LatentUpscale's 64-pixel floor, VAEEncode's crop to a multiple of 8).
import { linkedNode, MAX_LINK_DEPTH, type ComfyGraph, type ComfyNode } from './comfy-graph.ts';

/** What comfy-parameters.ts's node reader offers: a node's literal input, or undefined with a note. */
export interface InputReader {
  number(node: ComfyNode, key: string, keeping: string): number | undefined;
  text(node: ComfyNode, key: string, keeping: string): string | undefined;
}

export type Size = { width: number; height: number };

/** The input each node between the two passes takes its latent or image from. */
const CHAIN_INPUT: Readonly<Record<string, string>> = {
  LatentUpscale: 'samples',
  LatentUpscaleBy: 'samples',
  VAEDecode: 'samples',
  VAEEncode: 'pixels',
  ImageScale: 'image',
  ImageScaleBy: 'image',
  ImageUpscaleWithModel: 'image',
};
const UPSCALE_NODES = new Set(['LatentUpscale', 'LatentUpscaleBy', 'ImageScale', 'ImageScaleBy', 'ImageUpscaleWithModel']);

/** The nodes from `first`'s output to `second`'s latent_image (first pass's side first), or undefined if it is not so linked. */
function chainBetween(graph: ComfyGraph, first: ComfyNode, second: ComfyNode): ComfyNode[] | undefined {
  const chain: ComfyNode[] = [];
  let link = second.inputs.latent_image;
  for (let depth = 0; depth <= MAX_LINK_DEPTH; depth++) {
    const node = linkedNode(graph, link);
    if (!node) return undefined;
    if (node === first) return chain.reverse();
    if (!Object.hasOwn(CHAIN_INPUT, node.type)) return undefined;
    chain.push(node);
    link = node.inputs[CHAIN_INPUT[node.type]];
  }
  return undefined; // a loop, or a chain too long for a hires fix
}

export interface HiresPass {
  sampler: ComfyNode;
  /** The nodes between the passes, the first pass's side first; at least one of them upscales. */
  chain: ComfyNode[];
}

/** Plain KSamplers (lowest id first) that sample `first`'s output after upscaling it: hires fix passes. */
export function hiresPasses(graph: ComfyGraph, first: ComfyNode, samplers: ComfyNode[]): HiresPass[] {
  const passes: HiresPass[] = [];
  for (const sampler of samplers) {
    if (sampler === first || sampler.type !== 'KSampler') continue;
    const chain = chainBetween(graph, first, sampler);
    if (chain?.some((node) => UPSCALE_NODES.has(node.type))) passes.push({ sampler, chain });
  }
  return passes;
}

/** One upscale on the way: the node, and its method as ComfyUI names it (or the upscale model's file). */
export interface UpscaleStep {
  node: ComfyNode;
  method: string;
  pixels: boolean;
}

export interface ChainReading {
  steps: UpscaleStep[];
  /** Whether the latents are decoded to pixels and encoded again on the way. */
  throughPixels: boolean;
  /** The second pass's size in pixels, where it can be worked out. */
  size?: Size;
  /** The product of the factors where every step scales by one (…By nodes, upscale models of a known factor). */
  scale?: number;
  /** LatentUpscale or ImageScale nodes that crop to another aspect ("center") rather than stretch. */
  crops: boolean;
}

/** Python's round(): halves to even. */
function pythonRound(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 ? 2 * Math.round(x / 2) : r;
}

/** An upscale model's factor from its file name ("4x-UltraSharp.pth", "RealESRGAN_x4plus.pth"), where it says one. */
export function modelFactor(name: string): number | undefined {
  const m = /(?:^|[^a-z0-9])(\d)x(?:[^a-z0-9]|$)/i.exec(name) ?? /(?:^|[^a-z0-9])x(\d)(?:[^0-9]|$)/i.exec(name);
  return m ? Number(m[1]) : undefined;
}

const KEEP = 'hires fix settings';

/** A node's width or height: a whole number from 0 (ComfyUI's "keep the aspect") up. */
function side(reader: InputReader, node: ComfyNode, key: string, notes: string[]): number | undefined {
  const value = reader.number(node, key, KEEP);
  if (value === undefined || (Number.isSafeInteger(value) && value >= 0)) return value;
  notes.push(`the ${node.type} node's ${key} ${value} is not a size; keeping the current ${KEEP}`);
  return undefined;
}

/** A …By node's factor: finite and over 0. */
function factor(reader: InputReader, node: ComfyNode, notes: string[]): number | undefined {
  const value = reader.number(node, 'scale_by', KEEP);
  if (value === undefined || value > 0) return value;
  notes.push(`the ${node.type} node's scale_by ${value} is not an upscale factor; keeping the current ${KEEP}`);
  return undefined;
}

/**
 * The upscale steps between the passes and the size the second pass samples at, from the first pass's `first` size
 * (undefined where unknown: then only absolute sizes are known). Undefined, with a note, where an input cannot be read.
 */
export function readChain(reader: InputReader, graph: ComfyGraph, chain: ComfyNode[], first: Size | undefined, notes: string[]) {
  const steps: UpscaleStep[] = [];
  let size = first && { width: Math.floor(first.width / 8) * 8, height: Math.floor(first.height / 8) * 8 };
  let scale: number | undefined = 1,
    throughPixels = false,
    crops = false;
  for (const node of chain) {
    const pixels = node.type.startsWith('Image');
    if (node.type === 'VAEDecode') throughPixels = true;
    if (node.type === 'VAEEncode') size = size && { width: Math.floor(size.width / 8) * 8, height: Math.floor(size.height / 8) * 8 };
    if (!UPSCALE_NODES.has(node.type)) continue;
    const method = node.type === 'ImageUpscaleWithModel' ? modelName(reader, graph, node) : reader.text(node, 'upscale_method', KEEP);
    if (method === undefined) return undefined;
    steps.push({ node, method, pixels });
    if (node.type === 'LatentUpscaleBy' || node.type === 'ImageScaleBy' || node.type === 'ImageUpscaleWithModel') {
      const by = node.type === 'ImageUpscaleWithModel' ? modelFactor(method) : factor(reader, node, notes);
      if (by === undefined && node.type !== 'ImageUpscaleWithModel') return undefined;
      scale = by === undefined || scale === undefined ? undefined : scale * by;
      // LatentUpscaleBy rounds the latent cells, ImageScaleBy the pixels; a model multiplies them.
      const cell = node.type === 'LatentUpscaleBy' ? 8 : 1;
      const scaled = (v: number) => (node.type === 'ImageUpscaleWithModel' ? v * by! : pythonRound((v / cell) * by!) * cell);
      size = size && by !== undefined ? { width: scaled(size.width), height: scaled(size.height) } : undefined;
      continue;
    }
    const width = side(reader, node, 'width', notes),
      height = side(reader, node, 'height', notes);
    if (width === undefined || height === undefined) return undefined;
    if (width === 0 && height === 0) continue; // passes the input through
    scale = undefined;
    if (reader.text(node, 'crop', KEEP) === 'center') crops = true;
    size = node.type === 'LatentUpscale' ? latentUpscaleSize(size, width, height) : imageScaleSize(size, width, height);
  }
  return { steps, throughPixels, crops, ...(size ? { size } : {}), ...(scale !== undefined ? { scale } : {}) } satisfies ChainReading;
}

/** The file an ImageUpscaleWithModel node's UpscaleModelLoader loads. */
function modelName(reader: InputReader, graph: ComfyGraph, node: ComfyNode): string | undefined {
  const loader = linkedNode(graph, node.inputs.upscale_model);
  return loader?.type === 'UpscaleModelLoader' ? reader.text(loader, 'model_name', KEEP) : `a ${loader?.type ?? 'missing'} upscale model`;
}

/** LatentUpscale: a 0 side keeps the aspect; each side at least 64 pixels; then // 8 cells. */
function latentUpscaleSize(from: Size | undefined, width: number, height: number): Size | undefined {
  if ((width === 0 || height === 0) && !from) return undefined;
  const w = width === 0 ? Math.max(64, pythonRound(((from!.width / 8) * Math.max(64, height)) / (from!.height / 8))) : Math.max(64, width);
  const h = height === 0 ? Math.max(64, pythonRound(((from!.height / 8) * Math.max(64, width)) / (from!.width / 8))) : Math.max(64, height);
  return { width: Math.floor(w / 8) * 8, height: Math.floor(h / 8) * 8 };
}

/** ImageScale: a 0 side keeps the aspect (at least 1 pixel). */
function imageScaleSize(from: Size | undefined, width: number, height: number): Size | undefined {
  if ((width === 0 || height === 0) && !from) return undefined;
  return {
    width: width === 0 ? Math.max(1, pythonRound((from!.width * height) / from!.height)) : width,
    height: height === 0 ? Math.max(1, pythonRound((from!.height * width) / from!.width)) : height,
  };
}
