// npm run bench -- [--model DIR] [--width N --height N] [--steps N] [--sampler NAME] [--cfg X] [--runs N] [--provider NAME]
// Time per image split into text encoder, UNet calls, VAE decode and engine overhead (everything
// outside session.run), plus ms per guided UNet call and peak memory. Medians after one warm-up
// run; the last line is the same data as JSON, for machines.
import { parseArgs } from 'node:util';
import { resourceUsage } from 'node:process';
import { DEFAULT_MODEL_DIR } from '../model/default-model.ts';
import { loadModel } from '../model/model.ts';
import type { ProviderChoice } from '../model/session.ts';
import { generate, type GenerateResult } from '../pipeline/txt2img.ts';

const { values } = parseArgs({
  options: {
    model: { type: 'string' },
    width: { type: 'string' },
    height: { type: 'string' },
    steps: { type: 'string', default: '20' },
    sampler: { type: 'string', default: 'euler' },
    cfg: { type: 'string', default: '7' },
    runs: { type: 'string', default: '7' },
    provider: { type: 'string', default: 'cpu' },
  },
});
const median = (v: number[]) => {
  const s = [...v].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const runs = Number(values.runs);

const loadStart = performance.now();
const model = await loadModel(values.model ?? DEFAULT_MODEL_DIR, { provider: values.provider as ProviderChoice });
const loadMs = performance.now() - loadStart;
const request = {
  prompt: 'a red circle on a blue background',
  seed: 1,
  steps: Number(values.steps),
  sampler: values.sampler,
  cfgScale: Number(values.cfg),
  ...(values.width ? { width: Number(values.width) } : {}),
  ...(values.height ? { height: Number(values.height) } : {}),
};
const results: GenerateResult[] = [];
for (let r = 0; r <= runs; r++) {
  const result = await generate(model, { ...request, seed: r });
  if (r > 0) results.push(result); // the first run warms up the sessions
}
await model.dispose();

const pick = (f: (r: GenerateResult) => number) => median(results.map(f));
const summary = {
  model: model.info.name,
  provider: model.provider,
  providerFallbacks: model.fallbacks,
  width: results[0].images[0].width,
  height: results[0].images[0].height,
  sampler: values.sampler,
  steps: Number(values.steps),
  cfgScale: Number(values.cfg),
  evaluations: results[0].evaluations,
  runs,
  loadMs: Number(loadMs.toFixed(1)),
  totalMs: pick((r) => r.timings.totalMs),
  textEncoderMs: pick((r) => r.timings.textEncoderMs),
  unetMs: pick((r) => r.timings.unetMs),
  unetCallMs: pick((r) => r.timings.unetMs / r.timings.unetCalls),
  unetBatch: Number(values.cfg) === 1 ? 1 : 2,
  vaeMs: pick((r) => r.timings.vaeMs),
  overheadMs: pick((r) => r.timings.overheadMs),
  overheadPercent: pick((r) => (100 * r.timings.overheadMs) / r.timings.totalMs),
  pngMs: pick((r) => r.timings.pngMs),
  peakRssMiB: Number((resourceUsage().maxRSS / 1024).toFixed(1)),
  node: process.version,
  date: new Date().toISOString(),
};
const f = (ms: number) => `${ms.toFixed(2)} ms`;
console.log(
  `${summary.model} ${summary.width}x${summary.height}, ${summary.sampler} ${summary.steps} steps (${summary.evaluations} evaluations), ` +
    `CFG ${summary.cfgScale}, ${summary.provider}; median of ${runs} runs after warm-up`,
);
console.log(`  whole image     ${f(summary.totalMs)}`);
console.log(`  text encoder    ${f(summary.textEncoderMs)}`);
console.log(`  UNet            ${f(summary.unetMs)}  (${f(summary.unetCallMs)} per call at batch ${summary.unetBatch})`);
console.log(`  VAE decode      ${f(summary.vaeMs)}`);
console.log(
  `  engine overhead ${f(summary.overheadMs)}  ` +
    `(${summary.overheadPercent.toFixed(2)}% of the image; PNG encoding ${f(summary.pngMs)} of it)`,
);
console.log(`  model load ${f(summary.loadMs)}, peak RSS ${summary.peakRssMiB} MiB`);
console.log(JSON.stringify(summary));
