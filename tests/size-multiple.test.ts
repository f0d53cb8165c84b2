// The image sides a model can make, as app.info reports them (LoadedModel.sizeMultiple: the VAE factor times the
// UNet's downsamplings, or the VAE factor for a UNet that resizes to its skips), and a side its UNet cannot take
// refused in sizes, with no onnxruntime node text.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_MODEL_DIR } from '../src-core/model/default-model.ts';
import { loadModel } from '../src-core/model/model.ts';
import { sizeMultiple, sizeStep } from '../src-core/pipeline/memory.ts';
import { modelFolder } from './helpers/model-folders.ts';
import { withStudio } from './helpers/studio.ts';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { importModel } from '../src-core/import/importer.ts';
import { generate } from '../src-core/pipeline/txt2img.ts';

test('app.info gives the built-in model its size multiple, and a size off it is refused in plain words', async () => {
  await withStudio(DEFAULT_MODEL_DIR, async (_studio, client) => {
    const { model } = await client.call('app.info', {});
    assert.equal(model?.vaeFactor, 4);
    assert.equal(model?.sizeMultiple, 8, '4 pixels per latent cell x one UNet downsampling');

    const failed = client.waitFor('job.failed');
    const { jobId } = await client.call('job.generate', { prompt: 'a red circle', seed: 1, steps: 1, width: 68, height: 64 });
    const { jobId: failedId, error } = await failed;
    assert.equal(failedId, jobId);
    assert.match(error, /multiples of 8 pixels.*68x64 is not one/);
    assert.doesNotMatch(error, /Concat|Non-zero status|node|onnxruntime/i, 'no onnxruntime text');
  });
});

test('a model that runs at a native size off its UNet step (it resizes to its skips) keeps the VAE factor as its multiple', async () => {
  const model = await loadModel(modelFolder('tiny-sd-eps-int64'));
  try {
    assert.equal(model.info.latentSize * model.info.vaeFactor, 32, 'native 32 px');
    assert.equal(sizeStep(model.info), 64, 'four UNet levels of a VAE factor of 8');
    assert.equal(sizeMultiple(model.info), 8, 'its native 32 px stays a size the app offers');
  } finally {
    await model.dispose();
  }
});

test("the importer's UNets resize to their skips: any multiple of the VAE factor is offered, and runs", async () => {
  const work = mkdtempSync(join(tmpdir(), 'size-multiple-'));
  try {
    const out = join(work, 'model');
    await importModel(join(import.meta.dirname, 'fixtures', 'import', 'sd1', 'diffusers'), { out });
    const model = await loadModel(out);
    try {
      const { vaeFactor } = model.info;
      assert.ok(sizeStep(model.info) > vaeFactor, 'the UNet downsamples');
      assert.equal(sizeMultiple(model.info), vaeFactor);
      // Off the UNet's step: a traced export fails here; the imported graph makes the image.
      const side = sizeStep(model.info) + vaeFactor;
      const result = await generate(model, { prompt: 'a red circle', seed: 1, steps: 1, width: side, height: side });
      assert.equal(result.images[0].width, side);
    } finally {
      await model.dispose();
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});
