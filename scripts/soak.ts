// npm run soak -- [--images 500] [--model DIR] [--steps 20]: generates images back to back with one
// loaded model and samples memory and open handles; growth after warm-up must stay under 5%.
import { readdirSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { DEFAULT_MODEL_DIR } from '../src-core/model/default-model.ts';
import { loadModel } from '../src-core/model/model.ts';
import { generate } from '../src-core/pipeline/txt2img.ts';
import { median } from '../src-core/experiments/stats.ts';

const { values } = parseArgs({ options: { images: { type: 'string', default: '500' }, model: { type: 'string' }, steps: { type: 'string', default: '20' } } });
const total = Number(values.images);
const warmup = Math.max(20, Math.floor(total / 10));
const model = await loadModel(values.model ?? DEFAULT_MODEL_DIR);
const samplers = ['euler', 'euler_ancestral', 'heun', 'dpmpp_2m', 'restart'] as const;

interface Sample { image: number; rssMiB: number; heapMiB: number; externalMiB: number; handles: number; fds: number }
const samples: Sample[] = [];
const fdCount = () => { try { return readdirSync('/proc/self/fd').length; } catch { return -1; } };
const t0 = performance.now();
for (let i = 1; i <= total; i++) {
  await generate(model, { prompt: `a red circle on a blue background ${i % 7}`, seed: i, steps: Number(values.steps), sampler: samplers[i % samplers.length]}, { previews: i % 3 === 0 });
  if (i % 10 === 0) {
    const m = process.memoryUsage();
    samples.push({ image: i, rssMiB: m.rss / 2 ** 20, heapMiB: m.heapUsed / 2 ** 20, externalMiB: m.external / 2 ** 20, handles: process.getActiveResourcesInfo().length, fds: fdCount() });
  }
  if (i % 100 === 0) console.log(`${i} images, ${((performance.now() - t0) / 1000).toFixed(0)} s, rss ${samples[samples.length - 1].rssMiB.toFixed(1)} MiB`);
}
await model.dispose();

const after = samples.filter((s) => s.image > warmup);
const window = Math.max(3, Math.floor(after.length / 5));
const first = after.slice(0, window), last = after.slice(-window);
const growth = (key: keyof Sample) => (median(last.map((s) => s[key])) - median(first.map((s) => s[key]))) / median(first.map((s) => s[key]));
const report = {
  images: total, warmup, seconds: Number(((performance.now() - t0) / 1000).toFixed(1)),
  rssMiB: { start: median(first.map((s) => s.rssMiB)), end: median(last.map((s) => s.rssMiB)), growthPercent: 100 * growth('rssMiB') },
  heapMiB: { start: median(first.map((s) => s.heapMiB)), end: median(last.map((s) => s.heapMiB)), growthPercent: 100 * growth('heapMiB') },
  handles: { start: median(first.map((s) => s.handles)), end: median(last.map((s) => s.handles)) },
  fds: { start: median(first.map((s) => s.fds)), end: median(last.map((s) => s.fds)) },
};
console.log(JSON.stringify(report, null, 2));
const ok = report.rssMiB.growthPercent < 5 && report.heapMiB.growthPercent < 5 && report.handles.end <= report.handles.start && report.fds.end <= report.fds.start;
console.log(ok ? 'PASS: growth after warm-up under 5%, no leaked handles' : 'FAIL: memory or handles grew');
process.exit(ok ? 0 : 1);
