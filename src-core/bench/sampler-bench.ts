// The samplers' own cost per step on a 4x64x64 latent, with a denoiser that does almost nothing,
// so the number is the overhead the engine adds on top of each UNet call. Not a test.
import { karrasSchedule } from '../schedule/karras.ts';
import { DefaultNoiseStream } from '../noise/default-noise.ts';
import { resolveSampler } from '../samplers/index.ts';
import type { Denoiser } from '../samplers/types.ts';
import { median } from '../experiments/stats.ts';

const size = 4 * 64 * 64,
  steps = 30,
  runs = 15,
  // The first sampler measured also warms up the trivial denoiser and V8's allocation of its outputs: 3 runs left
  // the first one (Euler) several times its later cost.
  warmup = 10;
const trivial: Denoiser = async (x) => {
  const out = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = 0.9 * x[i];
  return out;
};
const variants: Array<[string, object]> = [
  ['euler', {}],
  ['euler_ancestral', {}],
  ['heun', {}],
  ['dpmpp_2m', {}],
  ['restart', { preset: 'a1111' }],
];

const stream = new DefaultNoiseStream(1);
const start = stream.randn(size).map((v) => v * 14.6);
console.log(`sampler overhead on a ${size}-value latent (4x64x64), ${steps} steps, median of ${runs} runs after ${warmup} warm-up runs`);
for (const [name, opts] of variants) {
  const { sampler, options } = resolveSampler(name, opts);
  const sigmas = karrasSchedule(steps, 0.0292, 14.6146);
  const evaluations = sampler.evaluations(sigmas, options);
  const times: number[] = [];
  for (let r = 0; r < runs + warmup; r++) {
    const t0 = performance.now();
    await sampler.sample(trivial, start, sigmas, { noise: () => stream.randn(size) }, options);
    if (r >= warmup) times.push(performance.now() - t0);
  }
  // The trivial denoiser's own cost, measured alone, is subtracted.
  const denoiserTimes: number[] = [];
  for (let r = 0; r < runs; r++) {
    const t0 = performance.now();
    for (let e = 0; e < evaluations; e++) await trivial(start, 1);
    denoiserTimes.push(performance.now() - t0);
  }
  const perStep = (median(times) - median(denoiserTimes)) / steps;
  console.log(
    `${name.padEnd(16)} nfe=${String(evaluations).padStart(3)}  ` +
      `total ${median(times).toFixed(2)} ms  sampler ${perStep.toFixed(3)} ms/step`,
  );
}

// Euler a and Restart also draw noise; its cost belongs to the noise source, shown here apart.
const noiseTimes: number[] = [];
for (let r = 0; r < runs; r++) {
  const t0 = performance.now();
  stream.randn(size);
  noiseTimes.push(performance.now() - t0);
}
console.log(`default noise source: ${median(noiseTimes).toFixed(3)} ms per ${size}-value draw (included above for euler_ancestral)`);
