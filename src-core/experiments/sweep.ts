// Guidance sweeps: for one prompt, every CFG scale times N seeds, for one or more samplers. Per
// point: diversity (mean pairwise distance between the seeds' images, in the evaluator's feature
// space when the model has one, otherwise in a stated pixel space), prompt accuracy when an
// evaluator can read the prompt, the Frechet distance to real images of the same prompt with its real-vs-real floor
// when the evaluator has real images of it (the experiment report's conditional FD), model evaluations and seconds per image.
import { decode } from 'fast-png';
import type { SweepPoint } from '../contract/api.ts';
import { SWEEP_GENERATE_KEYS, sweepBatchSize, type SweepRequest } from '../contract/experiments.ts';
import type { GenerateRequestInput } from '../contract/generate.ts';
import type { TextConditioning } from '../guidance/unet.ts';
import type { StableDiffusionModel } from '../model/model.ts';
import { generate, type GenerateHooks } from '../pipeline/txt2img.ts';
import { promptAccuracy, type Evaluator } from './evaluator.ts';
import { samePromptReference } from './real-reference.ts';
import { featureStats, frechetDistance, meanPairwiseDistance } from './stats.ts';

export interface SweepImage {
  seed: number;
  png: Buffer;
  parameters: string;
  width: number;
  height: number;
}

/** A measured point with its images (the host stores them and sends gallery entries instead). */
export interface SweepPointResult extends SweepPoint {
  images: SweepImage[];
}

export const PIXEL_SPACE = 'RGB pixels averaged to 16x16, values in [0, 1]';

/** RGBA bytes averaged down to 16x16x3 in [0, 1]: the fallback space for diversity. */
export function pixelFeatures(rgba: Uint8Array, width: number, height: number, side = 16): Float32Array {
  const out = new Float32Array(side * side * 3),
    counts = new Float32Array(side * side);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const cell = Math.floor((y * side) / height) * side + Math.floor((x * side) / width);
      counts[cell]++;
      for (let c = 0; c < 3; c++) out[cell * 3 + c] += rgba[(y * width + x) * 4 + c] / 255;
    }
  }
  for (let i = 0; i < out.length; i++) out[i] /= counts[Math.floor(i / 3)];
  return out;
}

export function rgbaOf(png: Uint8Array): { rgba: Uint8Array; width: number; height: number } {
  const image = decode(png);
  if (image.channels !== 4 || image.depth !== 8) throw new Error('expected 8-bit RGBA PNGs');
  return { rgba: image.data as Uint8Array, width: image.width, height: image.height };
}

export function featureSpace(evaluator: Evaluator | null, model: StableDiffusionModel): string {
  const native = model.info.latentSize * model.info.vaeFactor;
  return evaluator && evaluator.size === native ? 'evaluator features' : PIXEL_SPACE;
}

/** The generation request of one sweep point (the engine checks these before queueing, runSweep runs them). */
export function sweepPointRequest(
  request: SweepRequest,
  sampler: SweepRequest['samplers'][number],
  cfgScale: number,
): GenerateRequestInput {
  const batchSize = sweepBatchSize(request.seeds);
  return {
    prompt: request.prompt,
    negativePrompt: request.negativePrompt,
    sampler,
    steps: request.steps,
    schedule: request.schedule,
    cfgScale,
    seed: request.firstSeed,
    count: request.seeds / batchSize,
    batchSize,
    ...(sampler === 'restart' && request.restart ? { restart: request.restart } : {}),
    ...generateSettings(request),
  };
}

type GenerateSettings = Pick<SweepRequest, (typeof SWEEP_GENERATE_KEYS)[number]>;

/** The Generate form's settings the sweep was given (noise source, clip skip, emphasis, ENSD): those that are set. */
function generateSettings(request: SweepRequest): GenerateSettings {
  const settings: Record<string, unknown> = {};
  for (const key of SWEEP_GENERATE_KEYS) if (request[key] !== undefined) settings[key] = request[key];
  return settings as GenerateSettings;
}

export async function runSweep(
  model: StableDiffusionModel,
  evaluator: Evaluator | null,
  request: SweepRequest,
  hooks: Omit<GenerateHooks, 'encodings'> & { onPoint?: (point: SweepPointResult, done: number, total: number) => void } = {},
): Promise<SweepPointResult[]> {
  const encodings = new Map<string, TextConditioning>();
  const wanted = evaluator?.promptLabels(request.prompt) ?? null;
  const reference = evaluator ? samePromptReference(evaluator, request.prompt, request.seeds) : null;
  const total = request.samplers.length * request.cfgScales.length;
  const points: SweepPointResult[] = [];
  for (const sampler of request.samplers) {
    for (const cfgScale of request.cfgScales) {
      const result = await generate(model, sweepPointRequest(request, sampler, cfgScale), { ...hooks, encodings });
      const decoded = result.images.map((i) => rgbaOf(i.png));
      let features: ArrayLike<number>[];
      let accuracy: number | null = null;
      let fd: SweepPoint['fd'] = null;
      if (evaluator && decoded[0].width === evaluator.size && decoded[0].height === evaluator.size) {
        const evaluation = await evaluator.evaluate(decoded.map((d) => d.rgba));
        features = evaluation.features;
        if (wanted) accuracy = promptAccuracy(evaluation.predictions, wanted);
        // As many images as the reference and the floor's real set have (the bank's half size at most): the floor is
        // only what a sampler drawing the real distribution would score when both sets are as large.
        if (reference)
          fd = { value: frechetDistance(featureStats(features.slice(0, reference.images)), reference.stats), floor: reference.floor };
      } else {
        features = decoded.map((d) => pixelFeatures(d.rgba, d.width, d.height));
      }
      const point: SweepPointResult = {
        sampler,
        cfgScale,
        evaluations: result.evaluations,
        // Without the prompt's encoding, which the first point does for all the others (they share it).
        secondsPerImage: (result.timings.totalMs - result.timings.textEncoderMs) / 1000 / result.images.length,
        diversity: meanPairwiseDistance(features),
        accuracy,
        fd,
        images: result.images.map((i) => ({ seed: i.seed, png: i.png, parameters: i.parameters, width: i.width, height: i.height })),
      };
      points.push(point);
      hooks.onPoint?.(point, points.length, total);
    }
  }
  return points;
}
