// The Explore sweep's Frechet distance is compared with its real-vs-real floor, so both must be computed from sets
// of the same size. The bank holds halfSize real images per prompt and half; a point with more seeds than that is
// scored on its first halfSize images (seeds first..), not on all of them against fewer real ones.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_MODEL_DIR } from '../model/default-model.ts';
import { loadModel } from '../model/model.ts';
import { SweepRequestSchema } from '../contract/experiments.ts';
import type { Evaluator, Labels } from './evaluator.ts';
import { RealFeatureBank } from './real-reference.ts';
import { runSweep } from './sweep.ts';

// float16 bit patterns of the small whole numbers used below.
const HALF: Record<number, number> = { 0: 0x0000, 1: 0x3c00, 2: 0x4000, 3: 0x4200 };

test('a point with more seeds than the bank has real images per half is scored on as many images as the floor', async () => {
  const labels: Labels = { background: 0, shape: 0, color: 1, count: 0 };
  // Half A (the reference): the corners of the unit square. Half B (the floor's real set): the same corners moved
  // by (1, 2), so the floor is |(1, 2)|^2 = 5 (equal covariances: the trace term vanishes).
  const a = [
    [0, 0],
    [1, 0],
    [0, 1],
    [1, 1],
  ];
  const b = a.map(([x, y]) => [x + 1, y + 2]);
  const bits = Uint16Array.from([...a, ...b].flat().map((v) => HALF[v]));
  const bank = new RealFeatureBank(
    { description: '', file: '', dim: 2, perPrompt: 8, seed: 0, evaluator_sha256: '', made_by: 'test', prompts: ['p'] },
    bits,
  );
  assert.equal(bank.halfSize, 4);
  // The generated images' features: the first four are exactly half A, the last two far away.
  const generated = [...a, [40, 40], [40, 40]].map((f) => Float32Array.from(f));
  const evaluator = {
    size: 64,
    bank,
    prompts: [{ prompt: 'p', labels }],
    promptLabels: () => labels,
    evaluate: async (images: Uint8Array[]) => {
      assert.equal(images.length, generated.length);
      return { features: generated, predictions: generated.map(() => labels) };
    },
  } as unknown as Evaluator;
  const model = await loadModel(DEFAULT_MODEL_DIR);
  try {
    const request = SweepRequestSchema.parse({ prompt: 'p', samplers: ['euler'], steps: 1, cfgScales: [1], seeds: 6 });
    const [point] = await runSweep(model, evaluator, request);
    assert.equal(point.images.length, 6);
    assert.ok(point.fd);
    assert.ok(Math.abs(point.fd.floor - 5) < 1e-9, `floor ${point.fd.floor}`);
    // The first four images are distributed exactly as the reference: FD 0. All six against four real ones is far
    // from 0 (their mean alone moves by (40 + 40) / 6 per coordinate).
    assert.ok(point.fd.value < 1e-6, `FD ${point.fd.value}`);
  } finally {
    await model.dispose();
  }
});
