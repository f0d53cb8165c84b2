// AND (A1111's composable diffusion) on real networks: the embedded model and the tiny SDXL pipeline. A1111 keeps a
// part of weight 0 in the UNet batch (get_multicond_prompt_list keeps every part; combine_denoised adds
// (D_i - D_u) x 0), so `a AND b :0` is `a`'s image exactly, the extra row changing nothing; each part may use prompt
// editing, on its own schedule (reconstruct_multicond_batch); the parts' sum differs from either prompt.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadModel, type StableDiffusionModel } from '../src-core/model/model.ts';
import { generate } from '../src-core/pipeline/txt2img.ts';
import { decodeInputImage } from '../src-core/image/decode.ts';

const EMBEDDED = fileURLToPath(new URL('../models/restart-shapes-64/', import.meta.url));
const RED = 'a red circle on a blue background';
const SQUARE = 'a yellow square on a green background';

async function images(model: StableDiffusionModel, request: Record<string, unknown>): Promise<Buffer[]> {
  const result = await generate(model, request);
  return Promise.all(result.images.map(async (image) => Buffer.from((await decodeInputImage(image.png)).data)));
}

test('embedded model: a AND b :0 is a exactly; a part with editing switches on its own schedule; a AND b is neither', async () => {
  const model = await loadModel(EMBEDDED);
  try {
    const base = { seed: 11, steps: 8, sampler: 'euler', cfgScale: 7, negativePrompt: 'blurry', batchSize: 2 };
    const run = (prompt: string) => images(model, { ...base, prompt });
    const red = await run(RED);
    const square = await run(SQUARE);
    const zeroWeight = await run(`${RED} AND ${SQUARE} :0`);
    assert.equal(zeroWeight.length, 2);
    assert.ok(
      zeroWeight.every((image, i) => image.equals(red[i])),
      'each image of the batch',
    );
    // The first part of weight 0, the second an edit that is RED throughout ([B:A:0]).
    assert.ok((await run(`${SQUARE} :0 AND [${SQUARE}:${RED}:0]`)).every((image, i) => image.equals(red[i])));
    // An edit past the last evaluation of 8 Euler steps, in the first part.
    assert.ok((await run(`[${RED}:${SQUARE}:7] AND blurry :0`)).every((image, i) => image.equals(red[i])));
    const both = await run(`${RED} AND ${SQUARE}`);
    assert.ok(both.every((image, i) => !image.equals(red[i]) && !image.equals(square[i])));
    // One part with a weight (no AND): A1111 reads the weight too, so guidance changes.
    const half = await run(`${RED} :0.5`);
    assert.ok(half.every((image, i) => !image.equals(red[i])));
    // The trailing `:1` is not text: the prompt is RED's.
    assert.ok((await run(`${RED} :1`)).every((image, i) => image.equals(red[i])));
  } finally {
    await model.dispose();
  }
});

test('SDXL: a AND b :0 is a exactly (states and pooled vector per part), with and without an empty negative prompt', async () => {
  const model = await loadModel(join(import.meta.dirname, 'fixtures', 'sdxl', 'onnx'));
  try {
    for (const negativePrompt of ['blurry', '']) {
      const base = { seed: 7, steps: 4, sampler: 'euler', cfgScale: 5, width: 64, height: 64, negativePrompt };
      const [a] = await images(model, { ...base, prompt: RED });
      const [zero] = await images(model, { ...base, prompt: `${RED} AND ${SQUARE} :0` });
      assert.ok(zero.equals(a), `negative prompt "${negativePrompt}"`);
      const [both] = await images(model, { ...base, prompt: `${RED} AND ${SQUARE}` });
      assert.ok(!both.equals(a));
    }
  } finally {
    await model.dispose();
  }
});
