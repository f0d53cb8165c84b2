// The samplers' noise drawn in the engine's noise thread against drawn on the main thread, in one process and in turn
// (this VM's speed drifts by half within minutes; reports/gpu-bench/README.md, eighth pass). Run from the root:
//   node --import tsx reports/gpu-bench/noise-thread-ab.ts [SAMPLER] [RUNS]
// Each run is a job of four 256x256 images (4x64x64 latents, an SD 512x512 image's) of the embedded model, 20 steps
// at CFG 7, its UNet replaced by the benchmark's stand-in (src-core/bench/unet-calls.ts) after two real jobs: a call
// blocks the main thread for 8.5 ms, as onnxruntime-node's run does while a GPU works. Prints per way the medians
// over runs of the sampling time per image (the sampler loops, UNet calls included), of the gaps between two UNet
// calls, and of the UNet call as the engine times it (a draw on the main thread lands inside it).
import { loadModel } from '../../src-core/model/model.ts';
import { DEFAULT_MODEL_DIR } from '../../src-core/model/default-model.ts';
import { generate } from '../../src-core/pipeline/txt2img.ts';
import { startPngThread } from '../../src-core/png/encode-thread.ts';
import { drawNoiseOnMainThread, startNoiseThread } from '../../src-core/noise/noise-thread.ts';
import { watchUnetCalls } from '../../src-core/bench/unet-calls.ts';
import { median } from '../../src-core/experiments/stats.ts';

const [sampler = 'euler_ancestral', runsArg = '8'] = process.argv.slice(2);
await startPngThread();
await startNoiseThread();
const model = await loadModel(DEFAULT_MODEL_DIR, { provider: 'cpu' });
const request = { prompt: 'a red circle on a blue background', seed: 1, steps: 20, sampler, cfgScale: 7, count: 4, width: 256, height: 256 };
const calls = watchUnetCalls(model);
for (let r = 0; r < 2; r++) await generate(model, request, {}); // records the outputs the stand-in returns
calls.standIn(8.5);
const ways = ['noise thread', 'main thread'] as const;
const numbers = Object.fromEntries(ways.map((w) => [w, { sampling: [] as number[], gaps: [] as number[], unet: [] as number[] }]));
for (let r = 0; r < Number(runsArg); r++) {
  for (const way of r % 2 ? [...ways].reverse() : ways) {
    drawNoiseOnMainThread(way === 'main thread');
    calls.newRun();
    const { timings } = await generate(model, { ...request, seed: r }, {});
    numbers[way].sampling.push(timings.samplingMs / request.count);
    numbers[way].gaps.push(median(calls.gaps()));
    numbers[way].unet.push(timings.unetMs / timings.unetCalls);
  }
}
await model.dispose();
for (const way of ways) {
  const { sampling, gaps, unet } = numbers[way];
  console.log(
    `${sampler}, noise drawn on the ${way.padEnd(12)}: sampling ${median(sampling).toFixed(2)} ms per image, ` +
      `between calls ${(1000 * median(gaps)).toFixed(0)} us, UNet call ${median(unet).toFixed(3)} ms`,
  );
}
