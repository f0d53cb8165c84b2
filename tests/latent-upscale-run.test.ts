// Real runs of every hires upscaler on the tiny SD 1 model: each makes an image at the upscaled size whose PNG names
// A1111's upscaler and loads back to it; the images differ exactly where the upscaled latents do (torch agrees that
// antialias leaves a bilinear upscale alone, tests/latent-upscale.test.ts), and "None" is A1111's Lanczos resize.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { decode } from 'fast-png';
import { loadModel } from '../src-core/model/model.ts';
import { generate } from '../src-core/pipeline/txt2img.ts';
import { readTextChunks } from '../src-core/png/text-chunks.ts';
import { pngToRequest } from '../src-core/pipeline/png-import.ts';
import { HIRES_UPSCALERS, HIRES_UPSCALER_LABELS, type HiresUpscaler } from '../src-core/contract/images.ts';
import { modelFolder } from './helpers/model-folders.ts';

const base = { prompt: 'a red circle on a blue background', negativePrompt: 'green', steps: 4, cfgScale: 5, noiseSource: 'torch-cpu' };

test('every hires upscaler makes an image; they differ where their latents differ; PNGs name them', async () => {
  const dir = modelFolder('tiny-sd-eps-int64');
  const model = await loadModel(dir);
  try {
    const images = new Map<HiresUpscaler, Uint8Array>();
    for (const upscaler of HIRES_UPSCALERS) {
      // 32x32 to 48x48: latents 4x4 to 6x6, where nearest and nearest-exact pick different cells.
      const hires = { scale: 1.5, steps: 2, strength: 0.6, upscaler };
      const image = (await generate(model, { ...base, seed: 3, hires })).images[0];
      assert.deepEqual([image.width, image.height], [48, 48], upscaler);
      assert.match(
        readTextChunks(image.png).parameters,
        new RegExp(`Hires upscaler: ${HIRES_UPSCALER_LABELS[upscaler].replace(/[()]/g, '\\$&')},`),
      );
      const back = pngToRequest(image.png);
      assert.equal(back.request.hires?.upscaler, upscaler);
      assert.deepEqual(back.notes, []);
      images.set(upscaler, Uint8Array.from(decode(image.png).data));
    }
    const same = (a: HiresUpscaler, b: HiresUpscaler) => Buffer.from(images.get(a)!).equals(Buffer.from(images.get(b)!));
    assert.ok(same('latent', 'latent-antialiased'), 'antialias does not change a bilinear upscale');
    assert.ok(same('lanczos', 'none'), '"None" resizes the pixels with Lanczos');
    const distinct: HiresUpscaler[] = [
      'latent',
      'latent-bicubic',
      'latent-bicubic-antialiased',
      'latent-nearest',
      'latent-nearest-exact',
      'lanczos',
    ];
    for (const a of distinct) for (const b of distinct) if (a < b) assert.ok(!same(a, b), `${a} and ${b} give different images`);
  } finally {
    await model.dispose();
    rmSync(join(dir, '..'), { recursive: true, force: true });
  }
});
