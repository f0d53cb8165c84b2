// Times one 20-step txt2img of the embedded model with classifier-free guidance on onnxruntime-node (CPU):
// text encoder twice (unconditional + prompt), 20 UNet calls at batch 2, one VAE decode.
// Usage: npx tsx training/check-speed.ts [threads=2] [runs=5]
import os from 'node:os';
import { loadModel, generate, IDS_RED_CIRCLE_ON_BLUE } from './sd-lite.ts';

const threads = Number(process.argv[2] ?? 2);
const runs = Number(process.argv[3] ?? 5);
const m = await loadModel(undefined, threads);
await generate(m, [IDS_RED_CIRCLE_ON_BLUE], { steps: 20, seed: 1 }); // warm-up
const times: number[] = [];
for (let r = 0; r < runs; r++) {
  const t0 = performance.now();
  const img = await generate(m, [IDS_RED_CIRCLE_ON_BLUE], { steps: 20, guidance: 5, seed: 100 + r });
  times.push(performance.now() - t0);
  if (!(img.data as Float32Array).every(Number.isFinite)) throw new Error('non-finite output');
}
times.sort((a, b) => a - b);
console.log(
  JSON.stringify({
    what: '20-step Euler (Karras) txt2img, CFG 5, 64x64, text encoder x2 + 20 UNet calls at batch 2 + VAE decode',
    intraOpNumThreads: threads,
    cpus: os.cpus().length,
    cpu: os.cpus()[0]?.model,
    runs,
    ms_median: Math.round(times[Math.floor(runs / 2)]),
    ms_min: Math.round(times[0]),
    ms_max: Math.round(times[runs - 1]),
  }),
);
