// Progress events at the host's pace (host/progress-pace.ts: at most one per 50 ms and a batch's last evaluation)
// against one per evaluation, in one process and in turn (reports/gpu-bench/README.md, ninth pass). Run from the root:
//   GLIBC_TUNABLES=glibc.malloc.hugetlb=1:glibc.malloc.mmap_max=0:glibc.malloc.trim_threshold=17179869184 \
//   node --import tsx reports/gpu-bench/progress-pace-ab.ts [RUNS]
// Jobs of four 256x256 images (4x64x64 latents) of the embedded model, Euler 20 steps, CFG 7, with the app's previews
// and each event serialized as the host's IPC does; the UNet stands in (8.5 ms, blocking) after one real job and the
// benchmark's JIT warm-up. Prints per way the medians over runs of the time outside the UNet per call and of the
// median gap between two UNet calls.
import { serialize } from 'node:v8';
import { DEFAULT_MODEL_DIR } from '../../src-core/model/default-model.ts';
import { loadModel } from '../../src-core/model/model.ts';
import { generate, type GenerateHooks } from '../../src-core/pipeline/txt2img.ts';
import { startPngThread } from '../../src-core/png/encode-thread.ts';
import { startNoiseThread } from '../../src-core/noise/noise-thread.ts';
import { watchUnetCalls } from '../../src-core/bench/unet-calls.ts';
import { warmUpJit } from '../../src-core/bench/jit-warmup.ts';
import { PREVIEW_INTERVAL_MS } from '../../src-core/pipeline/preview.ts';
import { progressPace } from '../../src-core/host/progress-pace.ts';
import { median } from '../../src-core/experiments/stats.ts';
await startPngThread();
await startNoiseThread();
const model = await loadModel(DEFAULT_MODEL_DIR, { provider: 'cpu' });
const calls = watchUnetCalls(model);
const hooks = (paced: boolean): GenerateHooks => {
  const pace = progressPace();
  return {
    previews: true,
    previewIntervalMs: PREVIEW_INTERVAL_MS,
    onProgress: (p) => {
      if (p.preview) serialize({ event: 'preview', jobId: 'b', ...p.preview });
      else if (!paced || pace(p)) serialize({ event: 'progress', jobId: 'b', ...p });
    },
  };
};
const request = { prompt: 'a red circle on a blue background', seed: 1, steps: 20, sampler: 'euler', cfgScale: 7, count: 4, width: 256, height: 256 };
await generate(model, request, hooks(false));
await warmUpJit(model, calls, request, 1600, hooks(false));
await warmUpJit(model, calls, request, 800, hooks(true));
calls.standIn(8.5);
const rows: Record<string, { step: number[]; gap: number[] }> = { paced: { step: [], gap: [] }, every: { step: [], gap: [] } };
for (let r = 0; r < Number(process.argv[2] ?? 8); r++)
  for (const way of ['paced', 'every'] as const) {
    calls.newRun();
    const t = (await generate(model, { ...request, seed: r + 1 }, hooks(way === 'paced'))).timings;
    rows[way].step.push((t.samplingMs - t.unetMs) / t.unetCalls);
    rows[way].gap.push(median(calls.gaps()));
  }
for (const [way, v] of Object.entries(rows)) console.log(way, 'per step', (1000 * median(v.step)).toFixed(0), 'us, between', (1000 * median(v.gap)).toFixed(0), 'us');
process.exit(0);
