// What the tests of linear sampling runs share (guidance/device-run.test.ts, guidance/workspace-latents.test.ts): a
// stand-in UNet, prompt encodings, the noise, every sampler's runs, and the reference, each sampler's own loop.
import { DefaultNoiseStream } from '../../src-core/noise/default-noise.ts';
import { batchNoise } from '../../src-core/noise/index.ts';
import type { SamplerOptions } from '../../src-core/samplers/index.ts';
import type { SamplingPlan } from '../../src-core/samplers/run.ts';
import type { Denoiser, SampleContext } from '../../src-core/samplers/types.ts';
import type { TextConditioning, UNetBatch } from '../../src-core/guidance/unet.ts';
import { fromHalfBits, toHalfBits } from '../../src-core/model/half.ts';
import { sd15Schedule } from './sd15-files.ts';

export const schedule = sd15Schedule();
/** One image's latent values (2 channels of 3x3): a batch of two fills a workspace (a multiple of 4), one does not. */
export const PER_IMAGE = 2 * 3 * 3;
export const encoding = (value: number): TextConditioning => ({ states: new Float32Array(3 * 4).fill(value), tokens: 3, hidden: 4 });

/**
 * A smooth stand-in UNet whose output depends on the sample, the timestep and each row's prompt; NaN from the timestep
 * `poison` down. A Uint16Array sample is an fp16 UNet's: half bit patterns in and out.
 */
export function standIn(sample: Float32Array | Uint16Array, input: UNetBatch, poison = NaN): Float32Array | Uint16Array {
  const values = sample instanceof Uint16Array ? fromHalfBits(sample) : sample;
  const n = values.length / input.batch;
  const states = input.encoderHiddenStates,
    perRow = states.length / input.batch;
  const out = Float32Array.from(values, (v, i) => {
    if (input.timestep < poison) return NaN;
    const prompt = states[Math.floor(i / n) * perRow];
    return Math.sin(1.3 * v + input.timestep / 700) * (0.6 + 0.3 * prompt) + 0.01 * (i % n);
  });
  return sample instanceof Uint16Array ? toHalfBits(out) : out;
}

/** A batch's noise: one stream per image. */
export const noiseFor = (images = 2) =>
  batchNoise(
    Array.from({ length: images }, (_, k) => new DefaultNoiseStream(5 + k)),
    PER_IMAGE,
  );

// Every sampler, Restart with jumps: A1111's preset (from 20 steps), and the paper's form with two restarts and churn
// (a jump and a churn draw before the same step).
export const RUNS: Array<{ name: string; sampler: string; steps: number; options?: SamplerOptions }> = [
  { name: 'euler', sampler: 'euler', steps: 6 },
  { name: 'euler_ancestral', sampler: 'euler_ancestral', steps: 6, options: { eta: 0.7 } },
  { name: 'dpmpp_2m', sampler: 'dpmpp_2m', steps: 6 },
  { name: 'ddim', sampler: 'ddim', steps: 6 },
  { name: 'heun', sampler: 'heun', steps: 5 },
  { name: 'restart (a1111)', sampler: 'restart', steps: 20, options: { preset: 'a1111' } },
  {
    name: 'restart (segments, churn)',
    sampler: 'restart',
    steps: 8,
    options: { segments: [[3, 2, 0.5, 3]], restart_gamma: 0.3, s_min: 0.2, s_max: 5 },
  },
];

/** The reference: the plan's sampler's own loop over the denoiser (never its LinearSteps). */
export const ownLoop = (plan: SamplingPlan, denoiser: Denoiser, x: Float64Array, ctx: SampleContext): Promise<Float64Array> =>
  plan.sampler.sample(denoiser, x, plan.sigmas, ctx, plan.options);

/** The largest difference between two latents. */
export const largestDifference = (a: Float64Array, b: Float64Array): number => Math.max(...a.map((v, i) => Math.abs(v - b[i])));
