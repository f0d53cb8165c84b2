// A guidance sweep given the Generate form's noise source, emphasis, ENSD (the embedded model) and Clip skip (the
// importer's tiny SD 1 model, whose text encoder has hidden states) makes each point's images exactly as a plain
// generate() of the same request does, byte for byte; and each of those settings changes the image, so a sweep that
// dropped one would not match.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SweepRequestSchema } from '../src-core/contract/experiments.ts';
import type { GenerateRequestInput } from '../src-core/contract/generate.ts';
import { runSweep } from '../src-core/experiments/sweep.ts';
import { DEFAULT_MODEL_DIR } from '../src-core/model/default-model.ts';
import { loadModel, type StableDiffusionModel } from '../src-core/model/model.ts';
import { generate } from '../src-core/pipeline/txt2img.ts';
import { withImportedSd1 } from './helpers/imported-model.ts';

type Settings = Pick<GenerateRequestInput, 'noiseSource' | 'emphasis' | 'etaNoiseSeedDelta' | 'clipSkip'>;

const PROMPT = 'a (red:1.6) circle on a blue background';

/** One point's sweep (one sampler, one CFG scale, two seeds: one batch of two) and its images. */
async function sweepImages(model: StableDiffusionModel, sampler: GenerateRequestInput['sampler'], settings: Settings) {
  const request = SweepRequestSchema.parse({
    prompt: PROMPT,
    samplers: [sampler],
    steps: 4,
    cfgScales: [5],
    seeds: 2,
    firstSeed: 11,
    ...settings,
  });
  const points = await runSweep(model, null, request);
  assert.equal(points.length, 1);
  return points[0]!.images;
}

/** The same images asked of generate() directly, written out by hand: seeds 11 and 12 in one batch. */
async function plainImages(model: StableDiffusionModel, sampler: GenerateRequestInput['sampler'], settings: Settings) {
  const request: GenerateRequestInput = {
    prompt: PROMPT,
    negativePrompt: '',
    sampler,
    steps: 4,
    schedule: 'karras',
    cfgScale: 5,
    seed: 11,
    count: 1,
    batchSize: 2,
    ...settings,
  };
  return (await generate(model, request)).images;
}

async function assertSameAsGenerate(model: StableDiffusionModel, sampler: GenerateRequestInput['sampler'], settings: Settings) {
  const swept = await sweepImages(model, sampler, settings);
  const plain = await plainImages(model, sampler, settings);
  assert.deepEqual(
    swept.map((i) => i.seed),
    [11, 12],
  );
  for (let k = 0; k < plain.length; k++) {
    assert.ok(swept[k]!.png.equals(plain[k]!.png), `seed ${plain[k]!.seed}: the sweep's PNG differs from generate()'s`);
    assert.equal(swept[k]!.parameters, plain[k]!.parameters);
  }
  return { swept, plain };
}

test('embedded model: torch-cpu noise, emphasis "ignore" and ENSD 31337 reach every sweep image', async () => {
  const model = await loadModel(DEFAULT_MODEL_DIR);
  try {
    const settings: Settings = { noiseSource: 'torch-cpu', emphasis: 'ignore', etaNoiseSeedDelta: 31337 };
    const { swept } = await assertSameAsGenerate(model, 'euler_ancestral', settings);
    assert.match(swept[0]!.parameters, /, RNG: CPU,/);
    assert.match(swept[0]!.parameters, /, ENSD: 31337/);
    // Each setting changes the image: a sweep that left any one out would not have matched above.
    for (const key of Object.keys(settings) as Array<keyof Settings>) {
      const without = { ...settings };
      delete without[key];
      const other = await plainImages(model, 'euler_ancestral', without);
      assert.ok(!other[0]!.png.equals(swept[0]!.png), `without ${key} the image is the same: the check above proves nothing for it`);
    }
  } finally {
    await model.dispose();
  }
});

test('SD 1 model with hidden states: Clip skip 2 reaches every sweep image', async () => {
  await withImportedSd1(async (model) => {
    const { swept } = await assertSameAsGenerate(model, 'euler', { clipSkip: 2, noiseSource: 'torch-cpu' });
    assert.match(swept[0]!.parameters, /, Clip skip: 2/);
    const unskipped = await plainImages(model, 'euler', { noiseSource: 'torch-cpu' });
    assert.ok(!unskipped[0]!.png.equals(swept[0]!.png), 'clip skip 1 makes the same image: the check above proves nothing');
  });
});
