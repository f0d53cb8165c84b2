// Settings of the A1111-driven reference images (tests/fixtures/brownian/make_brownian_references.py and the scripts that
// reuse its run): the images.json every such folder has, and the request that asks the engine for the same image.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { GenerateRequestInput } from '../../src-core/contract/generate.ts';

export interface DrivenSettings<Image> {
  prompt: string;
  negative_prompt: string;
  steps: number;
  guidance_scale: number;
  width: number;
  height: number;
  images: Image[];
}

export const readDrivenSettings = <Image, Extra = object>(folder: string): DrivenSettings<Image> & Extra =>
  JSON.parse(readFileSync(join(folder, 'images.json'), 'utf8')) as DrivenSettings<Image> & Extra;

/** The engine's request for a reference: Karras, RNG "CPU" (torch-cpu), the reference's prompt, size, steps and CFG. */
export function drivenRequest(
  settings: DrivenSettings<unknown>,
  sampler: GenerateRequestInput['sampler'],
  seed: number,
  extra: Partial<GenerateRequestInput> = {},
): GenerateRequestInput {
  return {
    prompt: settings.prompt,
    negativePrompt: settings.negative_prompt,
    seed,
    steps: settings.steps,
    cfgScale: settings.guidance_scale,
    sampler,
    schedule: 'karras',
    noiseSource: 'torch-cpu',
    width: settings.width,
    height: settings.height,
    ...extra,
  };
}
