// What the SDXL parity tests (the engine on optimum's folder, and on the importer's output) check the same way:
// a set of relative errors, and StableDiffusionXLPipeline's reference images made again by the engine.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { loadModel, type LoadOptions } from '../../src-core/model/model.ts';
import { generate } from '../../src-core/pipeline/txt2img.ts';
import { maxPixelDifference, sdxlImageRequest, type SdxlImageCase } from './references.ts';

export const SDXL_REFERENCES = join(import.meta.dirname, '..', 'fixtures', 'sdxl', 'references');

/** Reports every error (diagnostic), then holds each to `limit`. */
export function assertErrorsBelow(t: TestContext, errors: Record<string, number>, limit: number): void {
  const listed = Object.entries(errors).map(([name, error]) => `${name} ${error.toExponential(2)}`);
  t.diagnostic(`relative errors: ${listed.join(', ')}`);
  for (const [name, error] of Object.entries(errors)) assert.ok(error < limit, `${name}: ${error}`);
}

/** images.json's images of one set of weights (sdxl: float32; sdxl-fp16: the fp16-rounded weights) whose PNG is there. */
function sdxlImageCases(reference: string): SdxlImageCase[] {
  const all = (JSON.parse(readFileSync(join(SDXL_REFERENCES, 'images.json'), 'utf8')) as { images: SdxlImageCase[] }).images;
  return all.filter((c) => c.reference === reference && existsSync(join(SDXL_REFERENCES, c.file)));
}

/**
 * The engine, loading `modelDir` (with `load`: the CPU provider by default), makes again each of images.json's images
 * of one set of weights (`reference`; at least `atLeast` of them); every difference is reported, then each held to 1/255.
 */
export async function assertSdxlImages(
  t: TestContext,
  modelDir: string,
  prompt: string,
  reference: string,
  atLeast: number,
  load: LoadOptions = {},
): Promise<void> {
  const cases = sdxlImageCases(reference);
  assert.ok(cases.length >= atLeast, `${cases.length} reference images`);
  const model = await loadModel(modelDir, load);
  assert.equal(model.provider, load.provider ?? 'cpu');
  const differences: Array<[string, number]> = [];
  try {
    for (const c of cases) {
      const png = (await generate(model, sdxlImageRequest(prompt, c))).images[0]!.png;
      differences.push([c.file, maxPixelDifference(png, join(SDXL_REFERENCES, c.file))]);
    }
  } finally {
    await model.dispose();
  }
  t.diagnostic(`max pixel difference (of 255): ${differences.map(([file, d]) => `${file} ${d}`).join(', ')}`);
  for (const [file, difference] of differences) assert.ok(difference <= 1, `${file}: max pixel difference ${difference}/255`);
}
