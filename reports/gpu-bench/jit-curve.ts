// How the engine's cost outside the UNet falls as V8 optimizes its per-step code, run after run in one process
// (reports/gpu-bench/README.md, ninth pass). Run from the root, with the engine process's malloc settings:
//   GLIBC_TUNABLES=glibc.malloc.hugetlb=1:glibc.malloc.mmap_max=0:glibc.malloc.trim_threshold=17179869184 \
//   node [V8 FLAGS] --import tsx reports/gpu-bench/jit-curve.ts [RUNS]
// Each run is a job of four 64x64 images of the embedded model (Euler, 20 steps, CFG 7, CPU), as `npm run bench`
// makes them, with the PNG and noise threads the engine starts. One line per run: the engine overhead's share of the
// image, the sampler loop's time outside the UNet per call, the median gap between two UNet calls (us), and per image
// the PNG's main-thread part and the rest of the overhead (ms).
import { DEFAULT_MODEL_DIR } from '../../src-core/model/default-model.ts';
import { loadModel } from '../../src-core/model/model.ts';
import { generate } from '../../src-core/pipeline/txt2img.ts';
import { startPngThread } from '../../src-core/png/encode-thread.ts';
import { startNoiseThread } from '../../src-core/noise/noise-thread.ts';
import { watchUnetCalls } from '../../src-core/bench/unet-calls.ts';
import { median } from '../../src-core/experiments/stats.ts';

const runs = Number(process.argv[2] ?? 30),
  count = 4;
await startPngThread();
await startNoiseThread();
const model = await loadModel(DEFAULT_MODEL_DIR, { provider: 'cpu' });
const calls = watchUnetCalls(model);
for (let r = 0; r < runs; r++) {
  calls.newRun();
  const request = { prompt: 'a red circle on a blue background', seed: r + 1, steps: 20, sampler: 'euler', cfgScale: 7, count };
  const t = (await generate(model, request)).timings;
  const outside = t.samplingMs - t.unetMs;
  console.log(
    `${r}: overhead ${((100 * t.overheadMs) / t.totalMs).toFixed(2)}%, per step ${((1000 * outside) / t.unetCalls).toFixed(0)} us, ` +
      `between calls ${(1000 * median(calls.gaps())).toFixed(0)} us, PNG ${(t.pngMs / count).toFixed(2)} ms, ` +
      `rest ${((t.overheadMs - outside - t.pngMs) / count).toFixed(2)} ms`,
  );
}
await model.dispose();
process.exit(0);
