// The app's progress events three ways, in one process and in turn (reports/gpu-bench/README.md, ninth and tenth
// passes): 'every', one per evaluation and each preview besides; 'paced', the ninth pass's pace (at most one per
// 50 ms and a batch's last evaluation, previews besides), written out here; 'host', the host's events now
// (host/progress-pace.ts: as 'paced', with a preview standing for a progress event); 'none', neither previews nor
// progress (what the app's reports cost is the difference). Run from the root:
//   GLIBC_TUNABLES=glibc.malloc.hugetlb=1:glibc.malloc.mmap_max=0:glibc.malloc.trim_threshold=17179869184 \
//   node --import tsx reports/gpu-bench/progress-pace-ab.ts [RUNS]
// Jobs of four 256x256 images (4x64x64 latents) of the embedded model, Euler 20 steps, CFG 7, with the app's previews
// and each event serialized as the host's IPC does; the UNet stands in (8.5 ms, blocking) after one real job and the
// benchmark's JIT warm-up. Prints per way the medians over runs of the time outside the UNet per call, of the
// median gap between two UNet calls, and the events sent per image.
import { serialize } from 'node:v8';
import { DEFAULT_MODEL_DIR } from '../../src-core/model/default-model.ts';
import { loadModel } from '../../src-core/model/model.ts';
import { generate, type GenerateHooks } from '../../src-core/pipeline/txt2img.ts';
import { startPngThread } from '../../src-core/png/encode-thread.ts';
import { startNoiseThread } from '../../src-core/noise/noise-thread.ts';
import { watchUnetCalls } from '../../src-core/bench/unet-calls.ts';
import { warmUpJit } from '../../src-core/bench/jit-warmup.ts';
import { PREVIEW_INTERVAL_MS } from '../../src-core/pipeline/preview.ts';
import { progressEvents } from '../../src-core/host/progress-pace.ts';
import { median } from '../../src-core/experiments/stats.ts';
await startPngThread();
await startNoiseThread();
const model = await loadModel(DEFAULT_MODEL_DIR, { provider: 'cpu' });
const calls = watchUnetCalls(model);
type Way = 'every' | 'paced' | 'host' | 'none';
let sent = 0;
const send = (event: object) => {
  sent++;
  serialize({ ...event, jobId: 'b' });
};
const hooks = (way: Way): GenerateHooks => {
  if (way === 'none') return {};
  const host = progressEvents(send);
  let lastSent = -Infinity;
  return {
    previews: true,
    previewIntervalMs: PREVIEW_INTERVAL_MS,
    onProgress:
      way === 'host'
        ? host
        : (p) => {
            const now = performance.now();
            if (p.preview) send({ event: 'preview', ...p.preview });
            else if (way === 'every' || p.evaluation === p.evaluations || now - lastSent >= 50) {
              send({ event: 'progress', ...p });
              lastSent = now;
            }
          },
  };
};
const request = { prompt: 'a red circle on a blue background', seed: 1, steps: 20, sampler: 'euler', cfgScale: 7, count: 4, width: 256, height: 256 };
await generate(model, request, hooks('every'));
for (const way of ['every', 'paced', 'host'] as const) await warmUpJit(model, calls, request, 800, hooks(way));
calls.standIn(8.5);
const ways = ['every', 'paced', 'host', 'none'] as const;
const rows = Object.fromEntries(ways.map((way) => [way, { step: [] as number[], gap: [] as number[], events: [] as number[] }]));
for (let r = 0; r < Number(process.argv[2] ?? 8); r++)
  // Each round starts with the next way, so that none always follows the same one.
  for (const way of [...ways.slice(r % ways.length), ...ways.slice(0, r % ways.length)]) {
    calls.newRun();
    sent = 0;
    const t = (await generate(model, { ...request, seed: r + 1 }, hooks(way))).timings;
    rows[way].step.push((t.samplingMs - t.unetMs) / t.unetCalls);
    rows[way].gap.push(median(calls.gaps()));
    rows[way].events.push(sent / request.count);
  }
for (const [way, v] of Object.entries(rows))
  console.log(
    way,
    'per step',
    (1000 * median(v.step)).toFixed(0),
    'us, between',
    (1000 * median(v.gap)).toFixed(0),
    'us, events per image',
    median(v.events).toFixed(1),
  );
process.exit(0);
