// npm run model-quality -- [--model DIR] [--seeds N] [--real FILE.rgb] [--sampler NAME --steps N --cfg X]
// Prompt accuracy and Frechet distance of a model with an evaluator (the embedded one by default), on a
// fixed prompt/seed set: every prompt of evaluator/prompts.json (one per attribute combination) times N
// seeds, drawn with the app's own pipeline and its default sampler and settings unless given. With
// --real (raw uint8 [n, 64, 64, 3] real images, from `train.py --stage real_sample`) it also prints the
// real-vs-real distance of the same sample size: the noise floor the generated distance compares with. With the
// evaluator's real feature bank it also prints the FD to real images of the same prompts and counts, with its floor.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { parseGenerateRequest, type GenerateRequestInput } from '../src-core/contract/generate.ts';
import type { TextConditioning } from '../src-core/guidance/unet.ts';
import { DEFAULT_MODEL_DIR } from '../src-core/model/default-model.ts';
import { loadModel } from '../src-core/model/model.ts';
import { generate } from '../src-core/pipeline/txt2img.ts';
import { AccuracyTally, Evaluator, HEADS } from '../src-core/experiments/evaluator.ts';
import { featureStats, frechetDistance } from '../src-core/experiments/stats.ts';
import { rgbaOf } from '../src-core/experiments/sweep.ts';
import { rgbImagesToRgba } from '../src-core/experiments/real-reference.ts';

const { values } = parseArgs({
  options: {
    model: { type: 'string' },
    seeds: { type: 'string', default: '2' },
    real: { type: 'string' },
    sampler: { type: 'string' },
    steps: { type: 'string' },
    cfg: { type: 'string' },
    schedule: { type: 'string' },
  },
});
const modelDir = values.model ?? DEFAULT_MODEL_DIR;
const seeds = Number(values.seeds);
const model = await loadModel(modelDir);
const evaluator = await Evaluator.load(modelDir);
if (!evaluator) throw new Error(`${modelDir} has no evaluator/`);
const overrides: Partial<GenerateRequestInput> = {
  ...(values.sampler ? { sampler: values.sampler as GenerateRequestInput['sampler'] } : {}),
  ...(values.steps ? { steps: Number(values.steps) } : {}),
  ...(values.cfg ? { cfgScale: Number(values.cfg) } : {}),
  ...(values.schedule ? { schedule: values.schedule as GenerateRequestInput['schedule'] } : {}),
};

const t0 = performance.now();
const encodings = new Map<string, TextConditioning>();
const tally = new AccuracyTally();
const features: Float32Array[] = [];
const resolved = parseGenerateRequest({ prompt: 'settings', seed: 0, ...overrides });
let settings = `${resolved.sampler}, ${resolved.schedule} schedule, ${resolved.steps} steps, CFG ${resolved.cfgScale}`;
for (const [k, c] of evaluator.prompts.entries()) {
  const result = await generate(
    model,
    { ...overrides, prompt: c.prompt, seed: 7_000 + k * seeds, count: seeds, batchSize: seeds } as GenerateRequestInput,
    { encodings },
  );
  const { predictions, features: f } = await evaluator.evaluate(result.images.map((i) => rgbaOf(i.png).rgba));
  features.push(...f);
  tally.add(predictions, c.labels);
  if (k === 0) settings += `, ${result.evaluations} model evaluations per image`;
}
await model.dispose();
const n = features.length;
const pct = (rate: number) => `${(100 * rate).toFixed(1)}%`;
const fd = frechetDistance(featureStats(features), evaluator.reference);
console.log(
  `${modelDir}: ${evaluator.prompts.length} prompts x ${seeds} seeds = ${n} images (${settings}), ` +
    `${((performance.now() - t0) / 1000).toFixed(0)} s`,
);
console.log(
  `prompt accuracy (all four attributes right): ${pct(tally.rate('all'))}; ${HEADS.map((h) => `${h} ${pct(tally.rate(h))}`).join(', ')}`,
);
console.log(`Frechet distance to the real reference statistics (evaluator features): ${fd.toFixed(3)}`);
if (evaluator.bank && seeds <= evaluator.bank.halfSize) {
  // The experiment report's measure: real images of exactly these prompts and counts, and a second real set's score.
  const same = evaluator.bank.reference(evaluator.prompts.map((c) => ({ prompt: c.prompt, count: seeds })));
  console.log(
    `Frechet distance to real images of the same prompts (${n} real images): ` +
      `${frechetDistance(featureStats(features), same.stats).toFixed(3)}; ` +
      `floor (a second real set of the same prompts and counts): ${same.floor.toFixed(3)}`,
  );
}

if (values.real) {
  const raw = readFileSync(values.real),
    size = 64 * 64 * 3,
    count = Math.min(n, Math.floor(raw.length / size));
  const images = rgbImagesToRgba(raw.subarray(0, count * size), 64);
  const real = await evaluator.evaluate(images);
  const floor = frechetDistance(featureStats(real.features), evaluator.reference);
  console.log(`noise floor: real-vs-real Frechet distance of ${count} fresh real images: ${floor.toFixed(3)}`);
}
