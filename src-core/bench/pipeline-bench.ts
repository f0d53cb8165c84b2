// npm run bench -- [--model DIR] [--width N --height N] [--steps N] [--sampler NAME] [--cfg X] [--runs N] [--count N]
//                   [--warmup N] [--provider NAME] [--unet-stand-in MS] [--unet-float16]
//                   [--previews] [--compare-torch] [--precision fp32|fp16] [--host-inputs] [--host-latent]
//                   [--jit-warmup CALLS] [--lora RANK]
// Time per image split into text encoder, UNet calls, VAE decode and engine overhead (everything
// outside session.run), plus ms per guided UNet call and peak memory. The overhead is split into the
// sampler loop's part per UNet call and the PNGs' encoding (which runs while the next image samples:
// a run makes --count images, as a batch count does). Medians over --runs runs after --warmup runs (1; code that runs
// once per image is only optimized by V8 after some images, so slow sizes with --count 1 want more);
// the last line is the same data as JSON, for machines. It runs with the engine process's glibc malloc settings
// (model/huge-pages.ts; the app and the server start the engine with them): set GLIBC_TUNABLES to override one.
// --jit-warmup CALLS (1600; 0: none): after the warm-up runs, the same request runs with the UNet and the VAE decoder
// standing in until CALLS UNet calls are made, so that V8 has optimized the engine's per-step code before the measured
// runs, as it has in the app's long-lived engine process after as many calls (bench/jit-warmup.ts).
// --unet-stand-in MS: after the warm-up runs, the UNet's session.run waits MS ms and returns a copy of its last real
// output for that shape, as a UNet on a GPU leaves the CPU idle and its caches as they were (a CPU UNet's run evicts
// them, and each step then reads the latent back from memory). The images are then not meaningful; the per-step
// figures are the engine's own work around a UNet that is not on the CPU. No GPU here: the GPU's own figure is the
// bench with --provider cuda.
// --unet-float16: the model's UNet takes and returns float16 (a copy with Casts around its float32 graph,
// bench/float16-io-unet.ts), as an fp16 export does: the engine then writes and reads half bit patterns at every step.
// --previews: progress and previews as the app's engine reports them (a preview at most every PREVIEW_INTERVAL_MS, a
// progress event at its pace or carried by a preview, host/progress-pace.ts; each event serialized as its IPC message
// is; the app sends it to the window on top).
// --model takes a diffusers-ONNX folder, or a checkpoint or diffusers folder through the import cache, as the command
// line does (--precision: the import's, fp32 by default). --compare-torch: diffusers' own pipeline on that diffusers
// folder, same settings, after the engine's runs (bench/torch-compare.ts), and the engine's times as ratios of its.
// --host-inputs: on WebGPU, the prompt states are copied to the GPU at every UNet call, as before they were uploaded
// once per run (model/device-tensors.ts): the difference of two runs, with and without, is what that saves. It also
// keeps the latent on the host. --host-latent: on WebGPU, the sampler runs on the host, reading the UNet's output back
// at every step, as before sampling runs stayed on the GPU (pipeline/device-latents.ts).
// --lora RANK: the prompt uses a random LoRA of that rank on the UNet's attention layers (bench/bench-lora.ts); the
// run's notes say where the engine could not put it (the CUDA graph or the portable one).
import { parseArgs } from 'node:util';
import { resourceUsage } from 'node:process';
import { rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { DEFAULT_MODEL_DIR } from '../model/default-model.ts';
import { loadModel } from '../model/model.ts';
import { median } from '../experiments/stats.ts';
import { rerunWithHugePages } from '../model/huge-pages.ts';
import type { ProviderChoice } from '../model/session.ts';
import { generate, type GenerateHooks, type GenerateResult } from '../pipeline/txt2img.ts';
import { PREVIEW_INTERVAL_MS } from '../pipeline/preview.ts';
import { progressEvents } from '../host/progress-pace.ts';
import { serialize } from 'node:v8';
import { decode } from 'fast-png';
import { encodeRgbaPng } from '../png/encode.ts';
import { startPngThread } from '../png/encode-thread.ts';
import { startNoiseThread } from '../noise/noise-thread.ts';
import { watchUnetCalls } from './unet-calls.ts';
import { warmUpJit } from './jit-warmup.ts';
import { float16IoCopy } from './float16-io-unet.ts';
import { runTorchPipeline } from './torch-compare.ts';
import { attachRandomLora } from './bench-lora.ts';
import { modelFolderFor } from '../cli/model-arg.ts';
import type { Precision } from '../import/importer.ts';

const { values } = parseArgs({
  options: {
    model: { type: 'string' },
    width: { type: 'string' },
    height: { type: 'string' },
    steps: { type: 'string', default: '20' },
    sampler: { type: 'string', default: 'euler' },
    cfg: { type: 'string', default: '7' },
    runs: { type: 'string', default: '7' },
    count: { type: 'string', default: '4' },
    warmup: { type: 'string', default: '1' },
    provider: { type: 'string', default: 'cpu' },
    'unet-stand-in': { type: 'string' },
    'unet-float16': { type: 'boolean', default: false },
    previews: { type: 'boolean', default: false },
    'compare-torch': { type: 'boolean', default: false },
    precision: { type: 'string', default: 'fp32' },
    'host-inputs': { type: 'boolean', default: false },
    'host-latent': { type: 'boolean', default: false },
    'jit-warmup': { type: 'string', default: '1600' },
    lora: { type: 'string' },
  },
});
const runs = Number(values.runs),
  count = Number(values.count),
  warmup = Number(values.warmup);
await rerunWithHugePages();

// The engine process runs its PNG encoder and noise threads from the start (host/engine-host.ts); so does the benchmark.
await startPngThread();
await startNoiseThread();
const loadStart = performance.now();
const modelDir = values.model ? await modelFolderFor(values.model, { precision: values.precision as Precision }) : DEFAULT_MODEL_DIR;
const copy = values['unet-float16'] ? float16IoCopy(modelDir) : undefined;
const model = await loadModel(copy ?? modelDir, {
  provider: values.provider as ProviderChoice,
  deviceInputs: !values['host-inputs'],
  deviceLatents: !values['host-latent'],
});
const loadMs = performance.now() - loadStart;
if (values.lora !== undefined && values['unet-stand-in'] !== undefined)
  throw new Error("--lora and --unet-stand-in do not go together: a LoRA set's UNet is a session the stand-in does not replace");
const lora = values.lora === undefined ? undefined : attachRandomLora(model, copy ?? modelDir, Number(values.lora));
const prompt = 'a red circle on a blue background';
const request = {
  prompt: lora ? `${prompt} ${lora.tag}` : prompt,
  seed: 1,
  steps: Number(values.steps),
  sampler: values.sampler,
  cfgScale: Number(values.cfg),
  count,
  ...(values.width ? { width: Number(values.width) } : {}),
  ...(values.height ? { height: Number(values.height) } : {}),
};
const standInMs = values['unet-stand-in'] === undefined ? undefined : Number(values['unet-stand-in']);
const calls = watchUnetCalls(model);
// The engine host's progress hooks (host/engine-host.ts): previews, progress events at its pace, and its IPC's
// structured clone in place of the pipe.
const appProgress: GenerateHooks = {
  previews: true,
  previewIntervalMs: PREVIEW_INTERVAL_MS,
  onProgress: progressEvents((event) => serialize({ ...event, jobId: 'bench' })),
};
const results: GenerateResult[] = [];
const gaps: number[] = [];
let jitCalls = 0;
const hooks = values.previews ? appProgress : {};
for (let r = 0; r < warmup + runs; r++) {
  if (r === warmup) {
    jitCalls = lora ? 0 : await warmUpJit(model, calls, request, Number(values['jit-warmup']), hooks);
    if (standInMs !== undefined) calls.standIn(standInMs);
  }
  calls.newRun();
  const result = await generate(model, { ...request, seed: r }, hooks);
  if (r >= warmup) {
    results.push(result); // the first runs warm up the sessions and V8
    gaps.push(...calls.gaps());
  }
}
await model.dispose();
lora?.remove();
if (copy) rmSync(dirname(copy), { recursive: true, force: true });
// diffusers' own pipeline on the same folder and settings, now that the engine's sessions are released.
const { width, height } = results[0].images[0];
const torchRun = values['compare-torch']
  ? runTorchPipeline(values.model, {
      prompt, // diffusers runs without the LoRA
      width,
      height,
      steps: request.steps,
      cfgScale: request.cfgScale,
      runs,
    })
  : undefined;

// What one PNG costs when nothing else runs: the last image's pixels encoded again, awaited alone.
const last = results[results.length - 1].images[0];
const rgba = decode(last.png).data as Uint8Array;
const alone: number[] = [];
for (let r = 0; r < 7; r++) {
  const t0 = performance.now();
  await encodeRgbaPng(rgba, last.width, last.height, { parameters: last.parameters });
  alone.push(performance.now() - t0);
}

/** The median over runs of a per-image number (a run's totals are for `count` images). */
const pick = (f: (r: GenerateResult) => number) => median(results.map((r) => f(r) / count));
const perCall = (f: (r: GenerateResult) => number) => median(results.map((r) => f(r) / r.timings.unetCalls));
const summary = {
  model: model.info.name,
  provider: model.provider,
  providerFallbacks: model.fallbacks,
  unetGraph: model.info.unetGraph,
  ...(model.info.unetGraphProblem ? { unetGraphProblem: model.info.unetGraphProblem } : {}),
  width: results[0].images[0].width,
  height: results[0].images[0].height,
  sampler: values.sampler,
  steps: Number(values.steps),
  cfgScale: Number(values.cfg),
  evaluations: results[0].evaluations,
  runs,
  imagesPerRun: count,
  warmupRuns: warmup,
  /** UNet calls of the JIT warm-up after the warm-up runs (UNet and VAE standing in: bench/jit-warmup.ts). */
  jitWarmupCalls: jitCalls,
  loadMs: Number(loadMs.toFixed(1)),
  totalMs: pick((r) => r.timings.totalMs),
  textEncoderMs: pick((r) => r.timings.textEncoderMs),
  unetMs: pick((r) => r.timings.unetMs),
  unetCallMs: perCall((r) => r.timings.unetMs),
  unetBatch: Number(values.cfg) === 1 ? 1 : 2,
  vaeMs: pick((r) => r.timings.vaeMs),
  overheadMs: pick((r) => r.timings.overheadMs),
  overheadPercent: median(results.map((r) => (100 * r.timings.overheadMs) / r.timings.totalMs)),
  /** The whole image (text encoder, PNG and overhead included) over its UNet calls and VAE decode alone. */
  wholeOverUnetVae: median(results.map((r) => r.timings.totalMs / (r.timings.unetMs + r.timings.vaeMs))),
  /** The sampler loop's time outside session.run, per UNet call (noise, sampler and guidance arithmetic, tensors). */
  stepOverheadMs: perCall((r) => r.timings.samplingMs - r.timings.unetMs),
  /** Median time from one UNet call's return to the next call in a run: the few gaps between two images (VAE decode,
   * start noise) are in the list but outside the median at 20 steps per image. */
  betweenCallsMs: gaps.length > 0 ? median(gaps) : null,
  unetStandInMs: standInMs ?? null,
  unetFloat: model.info.unetFloat,
  /** Whether the provider wrote the UNet output into the denoiser's preallocated array (null: none was offered). */
  unetOutputInPlace: results[0].timings.unetOutputInPlace ?? null,
  /** Whether the prompt states were fed from the device (null: the provider keeps no tensors there, or --host-inputs). */
  unetInputsOnDevice: results[0].timings.unetInputsOnDevice ?? null,
  /** Whether the sampling runs kept the latent on the device (WebGPU, a sampler with linear steps, no --host-latent). */
  latentOnDevice: results[0].timings.latentOnDevice ?? false,
  /** Their step graphs' run time per image (part of the engine overhead, as they run outside the UNet's session). */
  deviceStepMs: pick((r) => r.timings.deviceStepMs ?? 0),
  previews: values.previews,
  lora: lora ? { rank: lora.rank, layers: lora.layers } : null,
  /** What the engine told the user about the run (where a LoRA could not go, among others). */
  notes: results[0].notes,
  /** PNG encoding awaited alone; in the runs, the main thread's part of it and what was left to wait for at the end. */
  pngAloneMs: median(alone),
  pngMainThreadMs: pick((r) => r.timings.pngMs),
  pngWaitMs: pick((r) => r.timings.pngWaitMs),
  peakRssMiB: Number((resourceUsage().maxRSS / 1024).toFixed(1)),
  glibcTunables: process.env.GLIBC_TUNABLES ?? '',
  node: process.version,
  date: new Date().toISOString(),
};
const f = (ms: number) => `${ms.toFixed(2)} ms`;
console.log(
  `${summary.model} ${summary.width}x${summary.height}, ${summary.sampler} ${summary.steps} steps (${summary.evaluations} evaluations), ` +
    `CFG ${summary.cfgScale}, ${summary.provider} (${summary.unetGraph} UNet graph); ` +
    `per image, median of ${runs} runs of ${count} image(s) after ${warmup} warm-up run(s)` +
    (jitCalls > 0 ? ` and a JIT warm-up of ${jitCalls} UNet calls (UNet and VAE standing in)` : ''),
);
if (standInMs !== undefined)
  console.log(`  UNet STAND-IN: each call waits ${standInMs} ms and returns a recorded output (images not meaningful)`);
if (values['unet-float16']) console.log('  UNet input and output in float16 (Casts around the float32 graph)');
if (lora) console.log(`  LoRA: random, rank ${lora.rank}, on ${lora.layers} layers of the UNet (${lora.tag} in the prompt)`);
for (const note of summary.notes) console.log(`  note: ${note}`);
if (values.previews) console.log(`  progress events, and previews at most every ${PREVIEW_INTERVAL_MS} ms, as the app's engine sends them`);
console.log(`  whole image     ${f(summary.totalMs)}  (${summary.wholeOverUnetVae.toFixed(3)}x its UNet calls + VAE decode)`);
console.log(`  text encoder    ${f(summary.textEncoderMs)}`);
console.log(`  UNet            ${f(summary.unetMs)}  (${f(summary.unetCallMs)} per call at batch ${summary.unetBatch})`);
console.log(`  VAE decode      ${f(summary.vaeMs)}`);
const outputWay =
  summary.unetOutputInPlace === null
    ? 'no preallocated output offered'
    : summary.unetOutputInPlace
      ? 'written in place by the provider'
      : 'read from the returned tensor (the provider did not write it)';
console.log(`  UNet output     ${outputWay}`);
if (summary.unetInputsOnDevice !== null)
  console.log(
    `  prompt states   ${summary.unetInputsOnDevice ? 'uploaded to the device once per run' : 'copied at every call (the upload failed)'}`,
  );
if (summary.latentOnDevice) {
  console.log(`  latent          on the device for the whole run: its step graphs ${f(summary.deviceStepMs)} (in the overhead below)`);
  // The UNet's run may return once queued: the waits for the device at the run's checks and reads count as the UNet's.
  console.log("                  (the UNet's time: its runs and the waits for the device, which runs the step graphs too)");
}
console.log(`  engine overhead ${f(summary.overheadMs)}  (${summary.overheadPercent.toFixed(2)}% of the image)`);
console.log(`    per step      ${summary.stepOverheadMs.toFixed(3)} ms  (sampler loop outside session.run, per UNet call)`);
console.log(
  summary.betweenCallsMs === null
    ? "    between calls not watched (a LoRA set's UNet is a session of its own)"
    : `    between calls ${summary.betweenCallsMs.toFixed(3)} ms  (median, one UNet call's return to the next call)`,
);
console.log(
  `    PNG encoding  ${f(summary.pngAloneMs)} alone; in the runs ${f(summary.pngMainThreadMs)} on the main thread ` +
    `+ ${f(summary.pngWaitMs)} waited for at the end ` +
    `(${count > 1 ? 'the rest overlapped with the next image' : 'one image per run: nothing to overlap with, use --count 2 or more'})`,
);
const torch = torchRun && {
  ...torchRun,
  engineWholeRatio: summary.totalMs / torchRun.wholeMs,
  engineUnetCallRatio: summary.unetCallMs / torchRun.unetCallMs,
};
if (torch) {
  console.log(`  PyTorch (diffusers' pipeline, torch ${torch.torch}, ${torch.device}, ${torch.dtype}), median of ${torch.runs} images:`);
  console.log(`    whole image   ${f(torch.wholeMs)}  (the engine's: ${torch.engineWholeRatio.toFixed(3)}x)`);
  console.log(`    UNet call     ${f(torch.unetCallMs)}  (the engine's: ${torch.engineUnetCallRatio.toFixed(3)}x)`);
}
console.log(`  model load ${f(summary.loadMs)}, peak RSS ${summary.peakRssMiB} MiB`);
console.log(JSON.stringify({ ...summary, torch: torch ?? null }));
