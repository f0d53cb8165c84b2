// Real hires-fix runs on the embedded model, with each pass's per-step previews apart: the first preview is the first
// pass's, and hires fix makes the second pass larger, so a preview of the first one's width is the first pass's. The
// hires tests use them to see that a setting of the second pass leaves the first one as it was.
import { fileURLToPath } from 'node:url';
import { decode } from 'fast-png';
import { loadModel, type StableDiffusionModel } from '../../src-core/model/model.ts';
import { generate } from '../../src-core/pipeline/txt2img.ts';
import { readTextChunks } from '../../src-core/png/text-chunks.ts';

export const EMBEDDED_MODEL = fileURLToPath(new URL('../../models/restart-shapes-64/', import.meta.url));

export async function withEmbeddedModel(run: (model: StableDiffusionModel) => Promise<void>): Promise<void> {
  const model = await loadModel(EMBEDDED_MODEL);
  try {
    await run(model);
  } finally {
    await model.dispose();
  }
}

export interface PassPreviews {
  first: Uint8Array[];
  second: Uint8Array[];
}

/** One image (its PNG, pixels and parameters text) and its per-step previews split by pass. */
export async function runWithPassPreviews(model: StableDiffusionModel, request: object) {
  const previews: PassPreviews = { first: [], second: [] };
  let firstWidth: number | undefined;
  const result = await generate(model, request, {
    previews: true,
    previewIntervalMs: 0,
    onProgress: (p) => {
      if (!p.preview) return;
      firstWidth ??= p.preview.width;
      (p.preview.width === firstWidth ? previews.first : previews.second).push(p.preview.rgba.slice());
    },
  });
  const png = Buffer.from(result.images[0].png);
  return { png, pixels: decode(png).data, text: readTextChunks(png).parameters, previews };
}
