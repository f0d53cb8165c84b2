// Engine overhead, the same measurement for two checkouts of the engine (reports/gpu-bench/README.md, issue 22).
// Copy into a checkout's root and run: node --import tsx engine-overhead-ab.ts SIZE COUNT RUNS [LABEL]
// Since the third pass, run with the engine process's malloc settings for every checkout, as the app starts the engine:
// GLIBC_TUNABLES=glibc.malloc.hugetlb=1:glibc.malloc.mmap_max=0:glibc.malloc.trim_threshold=17179869184 (see
// src-core/model/huge-pages.ts). A checkout with the PNG encoder thread starts it first, as the engine does
// (NOTHREAD=1 leaves it off).
// Per-image medians over RUNS generate() calls of COUNT images each (Euler, 20 steps, CFG 7, embedded model), after
// one warm-up call. The per-step figure needs timings.samplingMs (the sampler loop's wall time): checkouts before
// fde0d2d lack it; for a095f48 add `samplingMs += performance.now() - t` around sampleJobBatch in txt2img.ts and
// return it in timings.
import { DEFAULT_MODEL_DIR } from './src-core/model/default-model.ts';
import { loadModel } from './src-core/model/model.ts';
import { generate } from './src-core/pipeline/txt2img.ts';
const [size, count, runs] = process.argv.slice(2, 5).map(Number);
const label = process.argv[5] ?? '';
try {
  if (!process.env.NOTHREAD) await (await import('./src-core/png/encode-thread.ts')).startPngThread();
} catch {
  // checkouts before the PNG encoder thread
}
const model = await loadModel(DEFAULT_MODEL_DIR, { provider: 'cpu' });
const req = (seed: number) => ({ prompt: 'a red circle on a blue background', seed, steps: 20, sampler: 'euler', cfgScale: 7, width: size, height: size, count });
await generate(model, req(1000));
const rows: Record<string, number>[] = [];
for (let r = 0; r < runs; r++) {
  const t = (await generate(model, req(r))).timings as Record<string, number>;
  rows.push({
    total: t.totalMs / count,
    unet: t.unetMs / count,
    vae: t.vaeMs / count,
    te: t.textEncoderMs / count,
    overhead: t.overheadMs / count,
    overheadPct: (100 * t.overheadMs) / t.totalMs,
    stepOverhead: (t.samplingMs - t.unetMs) / t.unetCalls,
    png: t.pngMs / count,
    pngWait: (t.pngWaitMs ?? t.pngMs) / count,
  });
}
await model.dispose();
const med = (k: string) => { const v = rows.map((r) => r[k]).sort((a, b) => a - b); return v.length % 2 ? v[(v.length - 1) / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2; };
console.log(JSON.stringify({ label, size, count, runs, ...Object.fromEntries(Object.keys(rows[0]).map((k) => [k, Number(med(k).toFixed(4))])) }));
