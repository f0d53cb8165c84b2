// The txt2img pipeline on real onnxruntime sessions of tiny models with SD's exact interface:
// fp32 with an int64 timestep and eps prediction, fp16 with a float16 timestep and v prediction.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decode } from 'fast-png';
import { loadModel } from '../src-core/model/model.ts';
import { generate } from '../src-core/pipeline/txt2img.ts';
import { readTextChunks } from '../src-core/png/text-chunks.ts';
import { parametersToRequest } from '../src-core/pipeline/metadata.ts';
import { SamplingCancelled } from '../src-core/samplers/types.ts';
import { modelFolder } from './helpers/model-folders.ts';

test('reads everything the pipeline needs from configs and session metadata', async () => {
  const sd1 = await loadModel(modelFolder('tiny-sd-eps-int64'));
  const sd2 = await loadModel(modelFolder('tiny-sd-v-fp16'));
  try {
    assert.deepEqual(
      {
        p: sd1.info.prediction,
        t: sd1.info.timestepType,
        ts: sd1.info.timestepShape,
        f: sd1.info.unetFloat,
        h: sd1.info.textHidden,
        pad: sd1.tokenizer.padId,
      },
      { p: 'epsilon', t: 'int64', ts: 'single', f: 'float32', h: 8, pad: 49407 },
    );
    assert.deepEqual(
      {
        p: sd2.info.prediction,
        t: sd2.info.timestepType,
        ts: sd2.info.timestepShape,
        f: sd2.info.unetFloat,
        h: sd2.info.textHidden,
        pad: sd2.tokenizer.padId,
        v: sd2.info.vaeFloat,
      },
      { p: 'v_prediction', t: 'float16', ts: 'batch', f: 'float16', h: 12, pad: 0, v: 'float16' },
    );
    assert.equal(sd1.info.vaeFactor, 8);
    assert.equal(sd1.info.latentSize, 4);
    assert.equal(sd1.info.scalingFactor, 0.18215);
  } finally {
    await sd1.dispose();
    await sd2.dispose();
  }
});

for (const fixture of ['tiny-sd-eps-int64', 'tiny-sd-v-fp16'] as const) {
  test(`${fixture}: generates PNGs with parameters; image k of a batch equals a single run with seed + k`, async () => {
    const model = await loadModel(modelFolder(fixture));
    try {
      const base = {
        prompt: 'a red circle on a blue background',
        negativePrompt: 'green',
        steps: 6,
        cfgScale: 5,
        sampler: 'euler_ancestral' as const,
      };
      // A1111's batch count x batch size: 2 batches of 2.
      const batch = await generate(model, { ...base, seed: 100, count: 2, batchSize: 2 });
      assert.deepEqual(
        batch.images.map((i) => i.seed),
        [100, 101, 102, 103],
      );
      assert.equal(batch.evaluations, 6);
      assert.equal(batch.timings.unetCalls, 6 * 2, 'two batches, one guided UNet call per evaluation');
      const single = await generate(model, { ...base, seed: 102 });
      assert.deepEqual(single.images[0].png, batch.images[2].png, 'same seed, same image, whatever the batch');
      const png = decode(batch.images[0].png);
      assert.equal(png.width, 32);
      assert.equal(png.height, 32);
      const text = readTextChunks(batch.images[0].png).parameters;
      assert.match(
        text,
        /^a red circle on a blue background\nNegative prompt: green\nSteps: 6, Sampler: Euler a, Schedule type: Karras, CFG scale: 5, Seed: 100, Size: 32x32, Model: tiny-sd/,
      );
      assert.match(text, /NFE: 6/);
      const back = parametersToRequest(text).request;
      assert.deepEqual(
        { s: back.sampler, st: back.steps, c: back.cfgScale, seed: back.seed, n: back.negativePrompt },
        { s: 'euler_ancestral', st: 6, c: 5, seed: 100, n: 'green' },
      );
      const other = await generate(model, { ...base, seed: 101 });
      assert.notDeepEqual(other.images[0].png, batch.images[0].png, 'different seeds give different images');
    } finally {
      await model.dispose();
    }
  });
}

test('guidance at scale 1 skips the unconditional half; progress is reported per evaluation with previews', async () => {
  const model = await loadModel(modelFolder('tiny-sd-eps-int64'));
  try {
    const events: number[] = [];
    let previews = 0;
    const result = await generate(
      model,
      { prompt: 'a cat', steps: 5, cfgScale: 1, seed: 1, sampler: 'heun' },
      {
        previews: true,
        onProgress: (p) => {
          if (p.preview) {
            previews++;
            assert.equal(p.preview.rgba.length, 4 * 4 * 4);
          } else events.push(p.evaluation);
        },
      },
    );
    assert.equal(result.evaluations, 9);
    assert.deepEqual(events, [1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const batches: string[] = [];
    await generate(
      model,
      { prompt: 'a cat', steps: 1, cfgScale: 1, seed: 1, sampler: 'euler', batchSize: 2, count: 2 },
      { onProgress: (p) => batches.push(`${p.imagesDone}+${p.batch}/${p.images}`) },
    );
    assert.deepEqual(batches, ['0+2/4', '2+2/4'], 'each batch says how many images it makes together');
    assert.equal(previews, 5);
    assert.equal(result.timings.textEncoderMs > 0, true);
  } finally {
    await model.dispose();
  }
});

test('previews come at most once per previewIntervalMs: a long interval leaves only the first step', async () => {
  const model = await loadModel(modelFolder('tiny-sd-eps-int64'));
  try {
    const steps: number[] = [];
    await generate(
      model,
      { prompt: 'a cat', steps: 4, seed: 1, count: 2 },
      { previews: true, previewIntervalMs: 60_000, onProgress: (p) => p.preview && steps.push(p.step!) },
    );
    assert.deepEqual(steps, [1]);
  } finally {
    await model.dispose();
  }
});

test('the same prompt generated again reuses its encoding; another emphasis or negative prompt encodes again', async () => {
  const model = await loadModel(modelFolder('tiny-sd-eps-int64'));
  try {
    const request = { prompt: 'a (cat:1.3) on a mat', negativePrompt: 'blurry', steps: 3, seed: 5 };
    const first = await generate(model, request);
    assert.ok(first.timings.textEncoderMs > 0);
    const again = await generate(model, request);
    assert.equal(again.timings.textEncoderMs, 0, 'nothing left to encode');
    assert.deepEqual(again.images[0].png, first.images[0].png, 'the same image, bytes included');
    const ignored = await generate(model, { ...request, emphasis: 'ignore' });
    assert.ok(ignored.timings.textEncoderMs > 0, 'another emphasis mode: encoded again');
    assert.notDeepEqual(ignored.images[0].png, first.images[0].png);
    const otherNegative = await generate(model, { ...request, negativePrompt: 'sharp' });
    assert.ok(otherNegative.timings.textEncoderMs > 0, 'the negative prompt is new');
    // A model of its own keeps its own encodings.
    const reloaded = await loadModel(modelFolder('tiny-sd-eps-int64'));
    try {
      assert.ok((await generate(reloaded, request)).timings.textEncoderMs > 0);
    } finally {
      await reloaded.dispose();
    }
  } finally {
    await model.dispose();
  }
});

test('cancelling stops the job within one model call and the model stays usable', async () => {
  const model = await loadModel(modelFolder('tiny-sd-eps-int64'));
  try {
    const controller = new AbortController();
    let last = 0;
    await assert.rejects(
      generate(
        model,
        { prompt: 'a cat', steps: 30, seed: 1 },
        {
          signal: controller.signal,
          onProgress: (p) => {
            last = p.evaluation;
            if (p.evaluation === 3) controller.abort();
          },
        },
      ),
      SamplingCancelled,
    );
    assert.equal(last, 3);
    const after = await generate(model, { prompt: 'a cat', steps: 2, seed: 1 });
    assert.equal(after.images.length, 1);
  } finally {
    await model.dispose();
  }
});

test('out-of-range and inconsistent requests get clear errors', async () => {
  const model = await loadModel(modelFolder('tiny-sd-eps-int64'));
  try {
    await assert.rejects(generate(model, { prompt: 'x', seed: 1, width: 36 }), /width 36 is not a multiple of 8/);
    await assert.rejects(generate(model, { prompt: 'x', seed: 1, steps: 0 }), /steps: Too small/);
    await assert.rejects(generate(model, { prompt: 'x', seed: -3 }), /seed: Too small/);
    await assert.rejects(generate(model, { prompt: 'x', seed: 1, cfgScale: NaN }), /cfgScale/);
    await assert.rejects(generate(model, { prompt: 'x', seed: 1, sampler: 'plms' }), /sampler: Invalid option/);
    await assert.rejects(
      generate(model, { prompt: 'x', seed: 1, sampler: 'restart', restart: { segments: [[3, 2, 0.5, 0.2]] } }),
      /t_max must be greater than t_min/,
    );
    await assert.rejects(
      generate(model, { prompt: 'x', seed: 1, sampler: 'restart', steps: 2, restart: { segments: [[3, 2, 0.001, 0.2]] } }),
      /snaps to sigma 0, the end of the schedule/,
    );
    await assert.rejects(generate(model, { prompt: 'x', seed: 1, bogus: true }), /Unrecognized key/);
  } finally {
    await model.dispose();
  }
});
