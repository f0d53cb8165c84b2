// The SDE samplers with A1111's Brownian tree noise against k-diffusion run the way A1111 runs them (float32 latents and
// sigmas, one torchsde tree per image seeded with its seed, torch's CPU draws):
// tests/fixtures/brownian/make_brownian_vectors.py wrote the expected latents.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { SAMPLERS, type SamplerName } from './index.ts';
import type { SampleContext } from './types.ts';
import { brownianNoise, brownianSpan, planBrownianNoise, sourceRandn } from '../noise/brownian-noise.ts';
import { planPartialSampling } from '../pipeline/img2img.ts';
import { sd15Schedule } from '../../tests/helpers/sd15-files.ts';
import { mixtureDenoiser, type GaussianMixture } from '../conformance/gaussian-mixture.ts';

interface Case {
  id: string;
  sampler: SamplerName;
  options: Record<string, number>;
  seeds: number[];
  sigmas: number[];
  gmm: GaussianMixture;
  x: number[][];
  expected: number[][];
  nfe: number;
}
const { samplers: cases } = JSON.parse(
  readFileSync(new URL('../../tests/fixtures/brownian/brownian-vectors.json', import.meta.url), 'utf8'),
) as { samplers: Case[] };

/** The largest difference, relative above 1. */
function worstDifference(got: Float64Array, expected: number[]): number {
  let worst = 0;
  for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(got[i] - expected[i]) / Math.max(1, Math.abs(expected[i])));
  return worst;
}

for (const c of cases) {
  test(`${c.id}: k-diffusion's result with A1111's Brownian noise, from the same seeds`, async () => {
    const dim = c.x[0].length;
    let evaluations = 0;
    const denoiser = mixtureDenoiser(c.gmm);
    const counted = (x: Float64Array, sigma: number) => (evaluations++, denoiser(x, sigma));
    const ctx: SampleContext = {
      noise: () => assert.fail('an SDE sampler with interval noise draws nothing from the stream'),
      intervalNoise: brownianNoise(c.seeds, dim, brownianSpan(c.sigmas), sourceRandn('torch-cpu')),
    };
    const out = await SAMPLERS[c.sampler].sample(counted, Float64Array.from(c.x.flat()), c.sigmas, ctx, c.options);
    assert.equal(evaluations, c.nfe);
    // The reference ran in float32 (as A1111 does) and the engine in float64: they agree to float32's precision. (Where
    // torch's float32 exp puts DPM++ SDE's midpoint sigma a last bit off, its tree is asked a time 1e-6 away.)
    const worst = worstDifference(out, c.expected.flat());
    assert.ok(worst < 2e-5, `largest difference ${worst}`);
  });
}

interface PartialCase {
  id: string;
  sampler: SamplerName;
  steps: number;
  strength: number;
  seeds: number[];
  sigmas: number[];
  fullSchedule: number[];
  gmm: GaussianMixture;
  x: number[][];
  expected: number[][];
}
const { partial } = JSON.parse(readFileSync(new URL('../../tests/fixtures/brownian/brownian-vectors.json', import.meta.url), 'utf8')) as {
  partial: PartialCase[];
};

// A1111 computes its Karras sigmas in float32, and a tree resolves times to 6 decimals: the runs take the reference's
// sigmas (the plan's agree with them to float32's precision) to compare the trees' span, the whole schedule.
for (const c of partial) {
  test(`${c.id}: img2img's part of the schedule, its trees over the whole schedule as A1111's sample_img2img`, async () => {
    const plan = planPartialSampling(sd15Schedule(), { sampler: c.sampler, schedule: 'karras', steps: c.steps }, c.strength, false);
    const close = (got: readonly number[], expected: number[], what: string) => {
      assert.equal(got.length, expected.length, what);
      got.forEach((s, i) => assert.ok(Math.abs(s - expected[i]) <= 1e-5 * s, `${what} ${i}: ${s} vs ${expected[i]}`));
    };
    close(plan.sigmas, c.sigmas, 'sigma');
    close(plan.fullSchedule, c.fullSchedule, 'whole schedule sigma');
    const dim = c.x[0].length;
    const run = async (sigmas: number[], fullSchedule?: number[]) => {
      const ctx: SampleContext = {
        noise: () => assert.fail('an SDE sampler with interval noise draws nothing from the stream'),
        intervalNoise: planBrownianNoise({ ...plan, sigmas, fullSchedule }, 'torch-cpu', c.seeds, dim),
      };
      const out = await SAMPLERS[c.sampler].sample(mixtureDenoiser(c.gmm), Float64Array.from(c.x.flat()), sigmas, ctx, {});
      return worstDifference(out, c.expected.flat());
    };
    const worst = await run(c.sigmas, c.fullSchedule);
    assert.ok(worst < 2e-5, `largest difference ${worst}`);
    // Trees over the part run alone give other noise (else this test could not tell).
    assert.ok((await run(c.sigmas)) > 1e-2);
  });
}
