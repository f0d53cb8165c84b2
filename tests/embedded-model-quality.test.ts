// The committed embedded model drawn through the app's own path (model loader, tokenizer, default
// sampler and settings, VAE, PNG) and checked by its independent evaluator: a broken model or pipeline
// fails here. The target is 85% of images with every attribute right; this set (48 of the
// evaluator's 336 attribute combinations, 3 seeds each) must reach it. The per-attribute floors sit a
// few points under the committed weights' level (printed by the test), to say which attribute broke.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_MODEL_DIR } from '../src-core/model/default-model.ts';
import { loadModel } from '../src-core/model/model.ts';
import { generate } from '../src-core/pipeline/txt2img.ts';
import { AccuracyTally, Evaluator, HEADS } from '../src-core/experiments/evaluator.ts';
import { rgbaOf } from '../src-core/experiments/sweep.ts';

const TARGET = 0.85;
const PROMPTS = 48,
  SEEDS = 3;
// Per-attribute floors, fraction of the 144 images (chance is 1/8 background and colour, 1/3 shape, 1/2 count).
const FLOORS = { background: 0.97, shape: 0.88, color: 0.95, count: 0.92 };

test('embedded model: default settings draw what the prompt asks, as judged by the evaluator', async () => {
  const model = await loadModel(DEFAULT_MODEL_DIR);
  const evaluator = await Evaluator.load(DEFAULT_MODEL_DIR);
  assert.ok(evaluator, 'the embedded model ships its evaluator');
  try {
    const stride = Math.floor(evaluator.prompts.length / PROMPTS);
    const cases = Array.from({ length: PROMPTS }, (_, i) => evaluator.prompts[(i * stride + 5) % evaluator.prompts.length]);
    const tally = new AccuracyTally();
    for (const [k, c] of cases.entries()) {
      // Only prompt and seed given: sampler, schedule, steps and CFG are the app's defaults.
      const result = await generate(model, { prompt: c.prompt, seed: 1000 + k * SEEDS, count: 1, batchSize: SEEDS });
      const { predictions } = await evaluator.evaluate(result.images.map((i) => rgbaOf(i.png).rgba));
      tally.add(predictions, c.labels);
    }
    const pct = (rate: number) => `${(100 * rate).toFixed(1)}%`;
    const heads = HEADS.map((h) => `${h} ${pct(tally.rate(h))}`).join(', ');
    const summary = `${tally.images} images: ${heads}; all four ${pct(tally.rate('all'))} (target ${100 * TARGET}%)`;
    console.log(`# ${summary}`);
    for (const h of HEADS) assert.ok(tally.rate(h) >= FLOORS[h], `${h} below ${FLOORS[h]}: ${summary}`);
    assert.ok(tally.rate('all') >= TARGET, `all-attribute accuracy below the ${100 * TARGET}% target: ${summary}`);
  } finally {
    await model.dispose();
  }
});
