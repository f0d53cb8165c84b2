// Sigma churn (k-diffusion's s_churn, s_tmin, s_tmax, s_noise) in Euler, Heun and DPM2: the gamma rule, a churned
// step worked by hand, the draw at every step, the host loop for churned runs, and k-diffusion's own churn vectors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { churnGamma, churnOf } from './churn.ts';
import { SAMPLERS } from './index.ts';
import type { Denoiser, SampleContext } from './types.ts';
import { runSamplerCase, type SamplerCase } from '../conformance/sampler-vectors.ts';

/** A context whose draws are all `value`, counting them. */
function constantNoise(value: number, length: number): SampleContext & { drawn: () => number } {
  let drawn = 0;
  return {
    noise: () => {
      drawn++;
      return new Float64Array(length).fill(value);
    },
    drawn: () => drawn,
  };
}

test('gamma is s_churn / steps, at most sqrt(2) - 1, and 0 outside [s_tmin, s_tmax] (ends included)', () => {
  const eightSteps = [9, 8, 7, 6, 5, 4, 3, 2, 0];
  assert.equal(churnGamma(churnOf({ s_churn: 0.5 }, eightSteps)!, 9), 0.0625);
  assert.equal(churnGamma(churnOf({ s_churn: 20 }, eightSteps)!, 9), Math.SQRT2 - 1);
  const window = churnOf({ s_churn: 0.8, s_tmin: 3, s_tmax: 7 }, eightSteps)!;
  assert.deepEqual(
    [9, 7, 5, 3, 2].map((sigma) => churnGamma(window, sigma)),
    [0, 0.1, 0.1, 0.1, 0],
  );
  assert.equal(churnOf({}, eightSteps), undefined);
  assert.equal(churnOf({ s_churn: 0, s_tmax: 5 }, eightSteps), undefined);
});

test('a churned Euler step, worked by hand: noise up to sigma_hat, the model asked at sigma_hat, the step from there', async () => {
  // sigmas [2, 1], s_churn 0.4 over 1 step: gamma 0.4, sigma_hat 2.8; x 1, draw 1, s_noise 1.5; D = 0.
  // x_hat = 1 + 1.5 sqrt(2.8^2 - 2^2) = 3.93938769133981; Euler to 1: x_hat + (1 - 2.8) x_hat / 2.8 = x_hat / 2.8.
  const asked: number[] = [];
  const zero: Denoiser = async (x, sigma) => {
    asked.push(sigma);
    return new Float64Array(x.length);
  };
  const ctx = constantNoise(1, 1);
  const out = await SAMPLERS.euler.sample(zero, Float64Array.of(1), [2, 1], ctx, { s_churn: 0.4, s_noise: 1.5 });
  assert.ok(Math.abs(asked[0] - 2.8) < 1e-15, `asked at ${asked[0]}`);
  assert.ok(Math.abs(out[0] - 1.406924175478505) < 1e-14, `got ${out[0]}`);
  assert.equal(ctx.drawn(), 1);
});

test('with churn on, every step draws (as k-diffusion), also outside the window; with churn off, none', async () => {
  const model: Denoiser = async (x) => x.map((v) => v * 0.5);
  const sigmas = [10, 5, 2, 1, 0];
  for (const name of ['euler', 'heun', 'dpm_2'] as const) {
    const plainCtx = constantNoise(1, 2);
    const plain = await SAMPLERS[name].sample(model, Float64Array.of(3, -1), sigmas, plainCtx, {});
    assert.equal(plainCtx.drawn(), 0, name);
    // A window no step's sigma is in: the draws are taken and change nothing.
    const outside = constantNoise(1, 2);
    const same = await SAMPLERS[name].sample(model, Float64Array.of(3, -1), sigmas, outside, { s_churn: 1, s_tmin: 20, s_tmax: 30 });
    assert.equal(outside.drawn(), 4, name);
    assert.deepEqual([...same], [...plain], name);
    const churned = await SAMPLERS[name].sample(model, Float64Array.of(3, -1), sigmas, constantNoise(1, 2), { s_churn: 1 });
    assert.notDeepEqual([...churned], [...plain], name);
  }
});

test('a churned run has no LinearSteps (it takes the sampler loop); an unchurned one keeps them', () => {
  const sigmas = [10, 5, 2, 1, 0];
  for (const name of ['euler', 'heun'] as const) {
    assert.equal(SAMPLERS[name].linearSteps!(sigmas, { s_churn: 0.5 }), undefined, name);
    assert.ok(SAMPLERS[name].linearSteps!(sigmas, { s_churn: 0, s_tmax: 3 })!.length > 0, name);
  }
});

test('bad churn settings are refused in words', async () => {
  const model: Denoiser = async (x) => x;
  const run = (options: object) => SAMPLERS.heun.sample(model, Float64Array.of(1), [2, 1, 0], constantNoise(0, 1), options);
  await assert.rejects(run({ s_churn: -1 }), /s_churn must be a number >= 0 \(got -1\)/);
  await assert.rejects(run({ s_churn: 1, s_tmin: -0.5 }), /s_tmin must be >= 0/);
  await assert.rejects(run({ s_churn: 1, s_tmax: 0 }), /s_tmax must be above 0, or absent for no upper limit/);
  await assert.rejects(run({ s_churn: 1, s_noise: NaN }), /s_noise must be >= 0/);
});

test("k-diffusion's churn vectors (sample_euler, sample_heun, sample_dpm_2 with their randn_like draws) are met", async () => {
  const doc = JSON.parse(readFileSync(new URL('../../tests/fixtures/sampler-vectors-more.json', import.meta.url), 'utf8')) as {
    cases: SamplerCase[];
  };
  const churned = doc.cases.filter((c) => (c.options as { s_churn?: number }).s_churn);
  assert.deepEqual([...new Set(churned.map((c) => c.sampler))], ['euler', 'heun', 'dpm_2']);
  assert.ok(churned.some((c) => 's_tmax' in c.options) && churned.some((c) => 's_noise' in c.options));
  for (const c of churned) {
    const result = await runSamplerCase(c);
    assert.ok(result.pass, `${c.id}: ${result.detail}`);
    assert.match(result.detail, new RegExp(`noise=${c.noise.length}/${c.noise.length}`), c.id);
  }
});
