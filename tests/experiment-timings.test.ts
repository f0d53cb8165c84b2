// A grid cell's seconds and a sweep point's seconds per image are the cell's or point's own work: the prompt
// is encoded once for the whole grid or sweep, by its first cell or point, and that time is not charged to it
// (Compare puts samplers' seconds side by side; the first would have looked slower by the text encoder's time).
// The text encoder is slowed here by a wait far longer than a cell takes, so that charging it cannot go unseen.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import type * as ort from 'onnxruntime-node';
import { loadModel, type StableDiffusionModel } from '../src-core/model/model.ts';
import { GridRequestSchema, SweepRequestSchema } from '../src-core/contract/experiments.ts';
import { runGrid } from '../src-core/experiments/grid.ts';
import { runSweep } from '../src-core/experiments/sweep.ts';

const EMBEDDED = fileURLToPath(new URL('../models/restart-shapes-64/', import.meta.url));
const ENCODER_WAIT_MS = 1500;

/** The model with every text-encoder run delayed by ENCODER_WAIT_MS. */
function slowTextEncoder(model: StableDiffusionModel): StableDiffusionModel {
  const slow = (session: ort.InferenceSession): ort.InferenceSession =>
    Object.create(session, {
      run: {
        value: async (...args: Parameters<ort.InferenceSession['run']>) => {
          await new Promise((resolve) => setTimeout(resolve, ENCODER_WAIT_MS));
          return session.run(...args);
        },
      },
    });
  const textEncoders = model.textEncoders.map((part) => ({ ...part, session: { ...part.session, session: slow(part.session.session) } }));
  return { ...model, textEncoders, textEncoder: textEncoders[0].session };
}

test("the first grid cell and sweep point are not charged the prompt's encoding, which they do for the others", async () => {
  const base = await loadModel(EMBEDDED);
  try {
    const model = slowTextEncoder(base);
    const grid = GridRequestSchema.parse({
      base: { prompt: 'a red circle on a blue background', negativePrompt: '', seed: 3, steps: 4, sampler: 'euler' },
      x: { kind: 'seed', values: [3, 4, 5] },
    });
    const cells = await runGrid(model, grid);
    for (const cell of cells) assert.ok(cell.seconds * 1000 < ENCODER_WAIT_MS, `cell ${cell.x}: ${cell.seconds} s`);

    const sweep = SweepRequestSchema.parse({ prompt: 'a green square on a red background', cfgScales: [2, 6], seeds: 2, steps: 4 });
    const points = await runSweep(model, null, sweep);
    for (const point of points)
      assert.ok(point.secondsPerImage * 1000 < ENCODER_WAIT_MS / 2, `CFG ${point.cfgScale}: ${point.secondsPerImage} s`);
  } finally {
    await base.dispose();
  }
});
