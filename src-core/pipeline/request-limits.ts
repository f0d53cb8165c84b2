// Refusing requests the engine cannot afford, before they are queued: one whose memory estimate is
// over the budget (with the largest size that would fit), and one whose total work is over the cap.
import { LIMITS, RequestError, type GenerateRequest } from '../contract/generate.ts';
import type { StableDiffusionModel } from '../model/model.ts';
import {
  CHUNK_POSITIONS,
  estimateRequestMemory,
  formatGb,
  largestSquareThatFits,
  memoryBudget,
  type MemoryBudget,
  type RequestShape,
} from './memory.ts';
import { CHUNK_TOKENS } from '../prompt/chunks.ts';
import { fixedUnetPositions } from '../prompt/conditioning.ts';
import { unetRowsPerImage } from '../prompt/composable.ts';
import { promptChunks } from '../prompt/count.ts';
import { sharedChunks } from '../prompt/encode.ts';
import { hiresSettings } from './hires.ts';
import { latentModeOf } from './latent-upscale.ts';
import { vaeEncoderOpen } from './img2img-encode.ts';

/** Whether a request runs the VAE encoder: img2img's source, or hires fix through pixels. */
export function usesVaeEncoder(request: GenerateRequest): boolean {
  const hires = hiresSettings(request);
  return request.initImage !== undefined || (hires !== undefined && latentModeOf(hires.upscaler) === undefined);
}

/**
 * The text positions a request's cross-attention attends to (77 a chunk, fewer where the UNet's export fixes them);
 * refuses prompts of more than LIMITS.promptChunks chunks, naming which (`pass`: "hires " for hires fix's own prompts).
 */
export function contextTokensOf(
  model: StableDiffusionModel,
  request: { prompt: string; negativePrompt: string; steps?: number },
  pass: '' | 'hires ' = '',
): number {
  const counts = promptChunks(model, request);
  const chunks = Math.max(counts.prompt, counts.negativePrompt);
  const fixed = fixedUnetPositions(model);
  if (chunks > LIMITS.promptChunks) {
    const which = counts.prompt >= counts.negativePrompt ? `the ${pass}prompt` : `the ${pass}negative prompt`;
    throw new RequestError(
      `${which} makes ${chunks} chunks of ${CHUNK_TOKENS} tokens (BREAK starts a new one); ` +
        `at most ${LIMITS.promptChunks}, as cross-attention's memory grows with them: shorten the prompt or use fewer BREAKs`,
    );
  }
  // Both are repeated to a common length (conditioning.ts); an unguided job runs the prompt alone, at most as long.
  const shared = sharedChunks(counts.prompt, counts.negativePrompt, LIMITS.promptChunks).chunks;
  return Math.min(shared * CHUNK_POSITIONS, fixed ?? Infinity);
}

/** Hires fix's second pass encodes its own prompts where set (A1111's hr_prompt): their positions, or 0. */
function hiresContextTokens(model: StableDiffusionModel, request: GenerateRequest): number {
  const hires = request.initImage ? undefined : request.hires;
  if (!hires?.prompt && !hires?.negativePrompt) return 0;
  const prompts = { prompt: hires.prompt || request.prompt, negativePrompt: hires.negativePrompt || request.negativePrompt };
  return contextTokensOf(model, prompts, 'hires ');
}

export function refuseOverMemory(
  model: StableDiffusionModel,
  request: GenerateRequest,
  sizes: ReadonlyArray<PassSize>,
  budget: MemoryBudget = memoryBudget(model.provider),
): void {
  // The prompts are chunked once for all sizes (a job's passes): a long prompt's tokenizing is not free.
  const shape = {
    batchSize: request.batchSize,
    cfgScale: request.cfgScale,
    rowsPerImage: unetRowsPerImage(request.prompt, request.cfgScale),
    vaeEncoder: usesVaeEncoder(request) || vaeEncoderOpen(model),
    contextTokens: Math.max(contextTokensOf(model, request), hiresContextTokens(model, request)),
  };
  for (const size of sizes) refuseSizeOverMemory(model, shape, size, budget);
}

/** A pass's size, and the larger image its VAE encodes where there is one (passes.ts PassPlan.vaeImage). */
type PassSize = Pick<RequestShape, 'width' | 'height' | 'vaeImage'>;

function refuseSizeOverMemory(
  model: StableDiffusionModel,
  shape: Omit<RequestShape, 'width' | 'height'>,
  size: PassSize,
  budget: MemoryBudget,
): void {
  const estimate = estimateRequestMemory(
    model.info,
    { ...shape, width: size.width, height: size.height, vaeImage: size.vaeImage },
    model.provider,
  );
  if (estimate.bytes <= budget.bytes) return;
  const attention = estimate.attentionPositions > 0 ? `attention over ${estimate.attentionPositions} latent positions` : 'no attention';
  const atBatch = shape.batchSize > 1 ? ' at this batch size' : '';
  const largest = largestSquareThatFits(model.info, shape, budget.bytes, LIMITS.imageSide, model.provider);
  const advice = largest === undefined ? `no size fits${atBatch}` : `the largest square size that fits${atBatch} is ${largest}x${largest}`;
  throw new RequestError(
    `${size.width}x${size.height} needs about ${formatGb(estimate.bytes)} GB on ${model.info.name} ` +
      `(${attention}, UNet batch ${estimate.unetBatch}); ` +
      `this machine allows ${formatGb(budget.bytes)} GB (${budget.source}); ${advice}`,
  );
}

/** What a request (or one grid cell, one sweep point) costs: model evaluations, and those times megapixels. */
export interface RequestWork {
  evaluations: number;
  megapixelEvaluations: number;
}

export function workOf(images: number, evaluationsPerImage: number, size: { width: number; height: number }): RequestWork {
  const evaluations = images * evaluationsPerImage;
  return { evaluations, megapixelEvaluations: (evaluations * size.width * size.height) / 1e6 };
}

/** A planned job's work (planJob): every pass at its own size (hires fix's second pass is the larger). */
export function jobWork(passes: { width: number; height: number; plan: { evaluations: number } }[], images: number): RequestWork {
  const work = passes.map((pass) => workOf(images, pass.plan.evaluations, pass));
  return {
    evaluations: work.reduce((n, w) => n + w.evaluations, 0),
    megapixelEvaluations: work.reduce((n, w) => n + w.megapixelEvaluations, 0),
  };
}

const count = (n: number) => Math.round(n).toLocaleString('en-US');

/** Sums the work of a request's parts (grid cells, sweep points) and refuses it over the caps. */
export function refuseOverWork(parts: RequestWork[], what: string): void {
  const evaluations = parts.reduce((sum, p) => sum + p.evaluations, 0);
  const megapixels = parts.reduce((sum, p) => sum + p.megapixelEvaluations, 0);
  const over = parts.length > 1 ? ` over ${parts.length} ${what}` : '';
  if (evaluations > LIMITS.evaluationsPerRequest) {
    throw new RequestError(
      `this request makes ${count(evaluations)} model evaluations${over} (images x evaluations per image); ` +
        `at most ${count(LIMITS.evaluationsPerRequest)} per request: ask for fewer images, steps or cells`,
    );
  }
  if (megapixels > LIMITS.megapixelEvaluationsPerRequest) {
    throw new RequestError(
      `this request makes ${count(megapixels)} megapixel-evaluations${over} (model evaluations x image megapixels); ` +
        `at most ${count(LIMITS.megapixelEvaluationsPerRequest)} per request: ask for fewer or smaller images, or fewer steps`,
    );
  }
}
