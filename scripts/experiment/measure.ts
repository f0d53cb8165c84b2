// Generates and scores one set of images: every chosen prompt times its seeds, through the app's own pipeline,
// read by the evaluator (prompt accuracy, features) and compared with real images of the same prompts and counts.
import type { GenerateRequestInput } from '../../src-core/contract/generate.ts';
import type { TextConditioning } from '../../src-core/guidance/unet.ts';
import type { StableDiffusionModel } from '../../src-core/model/model.ts';
import { generate } from '../../src-core/pipeline/txt2img.ts';
import { promptAccuracy, type Evaluator, type PromptCase } from '../../src-core/experiments/evaluator.ts';
import { featureStats, frechetDistance, type GaussianStats } from '../../src-core/experiments/stats.ts';
import { sweepBatchSize } from '../../src-core/contract/experiments.ts';
import { rgbaOf } from '../../src-core/experiments/sweep.ts';

export interface SetResult {
  fd: number;
  byPrompt: Float32Array[][];
  accuracy: number;
  evaluations: number;
  seconds: number;
}

export class SetRunner {
  private readonly encodings = new Map<string, TextConditioning>();

  constructor(
    private readonly model: StableDiffusionModel,
    private readonly evaluator: Evaluator,
    readonly prompts: PromptCase[],
  ) {}

  /** `seeds` images per prompt from seeds seedBase + k * seeds ..., scored against `reference` (real, same prompts and counts). */
  async run(request: Partial<GenerateRequestInput>, seedBase: number, seeds: number, reference: GaussianStats): Promise<SetResult> {
    const byPrompt: Float32Array[][] = [];
    let hits = 0,
      evaluations = 0;
    const t0 = performance.now(),
      batchSize = sweepBatchSize(seeds);
    for (const [k, prompt] of this.prompts.entries()) {
      const result = await generate(
        this.model,
        { ...request, prompt: prompt.prompt, seed: seedBase + k * seeds, count: seeds / batchSize, batchSize } as GenerateRequestInput,
        { encodings: this.encodings },
      );
      evaluations = result.evaluations;
      const evaluation = await this.evaluator.evaluate(result.images.map((i) => rgbaOf(i.png).rgba));
      byPrompt.push(evaluation.features);
      hits += promptAccuracy(evaluation.predictions, prompt.labels) * seeds;
    }
    const images = this.prompts.length * seeds;
    return {
      fd: frechetDistance(featureStats(byPrompt.flat()), reference),
      byPrompt,
      accuracy: hits / images,
      evaluations,
      seconds: (performance.now() - t0) / 1000 / images,
    };
  }
}
