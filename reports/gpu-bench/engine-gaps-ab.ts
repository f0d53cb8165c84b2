// Engine work between two UNet calls, the same measurement for two checkouts (reports/gpu-bench/README.md, fourth pass).
// Copy into a checkout's root and run with the engine's malloc settings:
//   GLIBC_TUNABLES=glibc.malloc.hugetlb=1:glibc.malloc.mmap_max=0:glibc.malloc.trim_threshold=17179869184 \
//   node --import tsx engine-gaps-ab.ts SIZE COUNT RUNS SAMPLER [STANDIN_MS]
// One real warm-up image, then RUNS generate() calls of COUNT images (20 steps, CFG 7, embedded model). With
// STANDIN_MS the UNet's session.run waits that long and returns a copy of its last real output (a GPU-like UNet that
// leaves the CPU idle), as `npm run bench -- --unet-stand-in MS` does. Prints the medians over runs of the per-step
// figure (sampler loop outside session.run per call, once-per-image work included) and of each run's median gap
// from one session.run's return to the next call.
import * as ort from 'onnxruntime-node';
import { DEFAULT_MODEL_DIR } from './src-core/model/default-model.ts';
import { loadModel } from './src-core/model/model.ts';
import { generate } from './src-core/pipeline/txt2img.ts';
const [size, count, runs] = process.argv.slice(2, 5).map(Number);
const sampler = process.argv[5];
const standIn = process.argv[6] ? Number(process.argv[6]) : undefined;
await (await import('./src-core/png/encode-thread.ts')).startPngThread();
const model = await loadModel(DEFAULT_MODEL_DIR, { provider: 'cpu' });
const session = model.unet.session as any;
const real = session.run.bind(session);
// The wait blocks the main thread, as onnxruntime-node's run does (eighth pass; it was a timer before).
const blocker = new Int32Array(new SharedArrayBuffer(4));
let recorded: any, useStandIn = false, last: number | undefined, gaps: number[] = [];
session.run = async (feeds: any, fetches: any) => {
  const t = performance.now(); if (last !== undefined) gaps.push(t - last);
  let out;
  if (useStandIn && recorded) {
    // A preallocated output (4e5a608 on) takes the values as onnxruntime writes them, during the run.
    if (fetches && !Array.isArray(fetches)) for (const [k, t] of Object.entries<any>(fetches)) t?.data.set(recorded[k].data);
    await new Promise((r) => setImmediate(r)); Atomics.wait(blocker, 0, 0, standIn!); const o = recorded.out_sample; out = { out_sample: new ort.Tensor(o.type, o.data.slice(), o.dims) }; }
  else { out = await real(feeds, fetches); recorded = out; }
  last = performance.now(); return out;
};
const req = (seed: number) => ({ prompt: 'a red circle on a blue background', seed, steps: 20, sampler, cfgScale: 7, width: size, height: size, count });
await generate(model, { ...req(1000), count: 1 });
useStandIn = standIn !== undefined;
const per: number[] = [], between: number[] = [];
for (let r = 0; r < runs; r++) {
  last = undefined; gaps = [];
  const t = (await generate(model, req(r))).timings as Record<string, number>;
  per.push((t.samplingMs - t.unetMs) / t.unetCalls); gaps.sort((a, b) => a - b); between.push(gaps[gaps.length >> 1]);
}
await model.dispose();
const med = (v: number[]) => { v = [...v].sort((a, b) => a - b); return v[v.length >> 1]; };
console.log(JSON.stringify({ sampler, size, standIn, perStepUs: Math.round(1000 * med(per)), betweenUs: Math.round(1000 * med(between)) }));
