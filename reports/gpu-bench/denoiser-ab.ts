// The guided denoiser and Euler sampler of this checkout against another checkout's, loaded side by side in one
// process and run in turn, so that the machine's drift (this VM's speed changes by half within minutes) hits both
// alike (reports/gpu-bench/README.md, seventh pass). Run from this checkout's root:
//   node --import tsx reports/gpu-bench/denoiser-ab.ts OTHER_CHECKOUT [RUNS]
// Each run samples one 4x64x64 latent, 20 Euler steps at CFG 7, over a stand-in UNet that blocks the main thread for
// 8.5 ms (the CPU idles, as with a GPU) and gives a recorded output: into the preallocated output where the denoiser offers one (written
// before the wait, as onnxruntime writes it during the run), otherwise as a fresh array after the wait (as
// onnxruntime's binding returns one). Prints, per checkout, the median, p25 and p75 over runs of the time per step
// outside the UNet calls, in us (the first two runs are warm-up).
import { resolve } from 'node:path';
import { sd15Schedule } from '../../tests/helpers/sd15-files.ts';

const [other, runsArg] = process.argv.slice(2);
if (!other) throw new Error('usage: denoiser-ab.ts OTHER_CHECKOUT [RUNS]');
const roots = { this: resolve('src-core'), other: resolve(other, 'src-core') };
const n = 4 * 64 * 64,
  steps = 20;
const recorded = Float32Array.from({ length: 2 * n }, (_, i) => Math.sin(i) * 0.05);
// The wait blocks the main thread, as onnxruntime-node's run does while a GPU works (eighth pass; a timer before).
const blocker = new Int32Array(new SharedArrayBuffer(4));
const sleep = async (ms: number) => {
  await new Promise((done) => setImmediate(done));
  Atomics.wait(blocker, 0, 0, ms);
};
const encoding = (value: number) => ({ states: new Float32Array(77 * 64).fill(value), tokens: 77, hidden: 64 });

let unetMs = 0;
const unet = async (input: { output?: Float32Array }) => {
  const t = performance.now();
  let out: Float32Array;
  if (input.output) {
    input.output.set(recorded);
    await sleep(8.5);
    out = input.output;
  } else {
    await sleep(8.5);
    out = recorded.slice();
  }
  unetMs += performance.now() - t;
  return out;
};

const checkouts = await Promise.all(
  Object.entries(roots).map(async ([name, root]) => {
    const { guidedDenoiser } = await import(`${root}/guidance/denoiser.ts`);
    const { sampleEuler } = await import(`${root}/samplers/euler.ts`);
    const { DefaultNoiseStream } = await import(`${root}/noise/default-noise.ts`);
    const { batchNoise } = await import(`${root}/noise/index.ts`);
    const { karrasSchedule } = await import(`${root}/schedule/karras.ts`);
    const model = { unet, schedule: sd15Schedule(), prediction: 'epsilon', batch: 1, cond: encoding(1), uncond: encoding(-1), scale: 7 };
    const denoiser = guidedDenoiser(model);
    const sample = async (seed: number) => {
      const sigmas: number[] = karrasSchedule(steps, 0.03, 14.6);
      const noise = batchNoise([new DefaultNoiseStream(seed)], n);
      const x: Float64Array = noise();
      for (let i = 0; i < n; i++) x[i] *= sigmas[0];
      unetMs = 0;
      const t = performance.now();
      await sampleEuler(denoiser, x, sigmas, { noise });
      return (((performance.now() - t - unetMs) / steps) * 1000) as number;
    };
    return { name, sample, times: [] as number[] };
  }),
);
const runs = Number(runsArg ?? 40);
for (let r = 0; r < runs; r++) {
  for (const checkout of r % 2 ? [...checkouts].reverse() : checkouts) {
    const us = await checkout.sample(r);
    if (r >= 2) checkout.times.push(us);
  }
}
for (const { name, times } of checkouts) {
  times.sort((a, b) => a - b);
  const at = (q: number) => times[Math.floor(q * times.length)].toFixed(1);
  console.log(`${name.padEnd(5)} ${roots[name as keyof typeof roots]}: per step median ${at(0.5)} us, p25 ${at(0.25)}, p75 ${at(0.75)}`);
}
