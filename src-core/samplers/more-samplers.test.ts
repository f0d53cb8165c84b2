// The samplers added after the first six (LMS, DPM2, DPM2 a, DPM++ 2S a, DPM++ SDE, 2M SDE, 3M SDE): their A1111
// schedules, LMS's exact coefficients, and the guard every sampler shares. Their results against k-diffusion are the
// vectors in tests/fixtures/sampler-vectors-more.json (tests/conformance.test.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { lmsCoefficient } from './lms.ts';
import { planSampling } from './run.ts';
import { SAMPLERS } from './index.ts';
import { SamplerError, SamplingCancelled, type Denoiser } from './types.ts';
import { sd15Schedule } from '../../tests/helpers/sd15-files.ts';

const vectors = JSON.parse(readFileSync(new URL('../../tests/fixtures/sampler-vectors-more.json', import.meta.url), 'utf8')) as {
  cases: { id: string; sigmas: number[] }[];
};
const sigmasOf = (id: string) => vectors.cases.find((c) => c.id === id)!.sigmas;
const NEW = ['lms', 'dpm_2', 'dpm_2_ancestral', 'dpmpp_2s_ancestral', 'dpmpp_sde', 'dpmpp_2m_sde', 'dpmpp_3m_sde'] as const;

function assertClose(got: number[], expected: number[], what: string): void {
  assert.equal(got.length, expected.length, what);
  for (let i = 0; i < got.length; i++) assert.ok(Math.abs(got[i] - expected[i]) <= 1e-12 * Math.max(1, expected[i]), `${what} sigma ${i}`);
}

test("DPM2, DPM2 a and DPM++ 3M SDE run on A1111's schedule: one step more, the next-to-last sigma dropped", () => {
  const model = sd15Schedule();
  // The vectors' schedules were built by k-diffusion with A1111's rule (make_more_sampler_vectors.py).
  const plan = (sampler: string, schedule: 'karras' | 'normal' | 'exponential', steps: number) =>
    planSampling(model, { sampler, schedule, steps }).sigmas;
  assertClose(plan('dpm_2', 'karras', 10), sigmasOf('m-dpm2-karras10-d4-b1'), 'dpm_2 karras 10');
  assertClose(plan('dpm_2', 'normal', 6), sigmasOf('m-dpm2-normal6-d8-b2'), 'dpm_2 normal 6');
  assertClose(plan('dpm_2_ancestral', 'normal', 8), sigmasOf('m-dpm2a-eta07-sn11-normal8-d8-b2'), 'dpm_2_ancestral normal 8');
  assertClose(plan('dpmpp_3m_sde', 'exponential', 10), sigmasOf('m-dpmpp3msde-exponential10-d4-b1'), 'dpmpp_3m_sde exponential 10');
  // The others take the schedule as it is.
  assertClose(plan('dpmpp_2m_sde', 'exponential', 10), sigmasOf('m-dpmpp2msde-exponential10-d4-b1'), 'dpmpp_2m_sde exponential 10');
  assert.equal(planSampling(model, { sampler: 'dpm_2', schedule: 'karras', steps: 1 }).sigmas.length, 2);
});

test('LMS coefficients: first order is the step itself, and the weights of any order sum to the step', () => {
  const sigmas = [14.6, 9.1, 5.2, 2.9, 1.4, 0.6, 0];
  for (let i = 0; i < sigmas.length - 1; i++) {
    const h = sigmas[i + 1] - sigmas[i];
    assert.ok(Math.abs(lmsCoefficient(1, sigmas, i, 0) - h) < 1e-15);
    for (let order = 2; order <= Math.min(4, i + 1); order++) {
      let sum = 0;
      for (let j = 0; j < order; j++) sum += lmsCoefficient(order, sigmas, i, j);
      assert.ok(Math.abs(sum - h) < 1e-12, `order ${order} step ${i}: ${sum} vs ${h}`);
    }
  }
  // Order 2 by hand: the slope's linear extrapolation, integrated (Adams-Bashforth with uneven steps).
  const [s0, s1, s2] = [3, 2, 0.5];
  const h = s2 - s1,
    prev = s1 - s0;
  assert.ok(Math.abs(lmsCoefficient(2, [s0, s1, s2], 1, 0) - (h + h ** 2 / (2 * prev))) < 1e-15);
  assert.ok(Math.abs(lmsCoefficient(2, [s0, s1, s2], 1, 1) - -(h ** 2) / (2 * prev)) < 1e-15);
  assert.throws(() => lmsCoefficient(3, sigmas, 1, 0), /order 3 is too high for step 1/);
});

const constant: Denoiser = async (x) => new Float64Array(x.length).fill(0.25);
const noise = () => new Float64Array(4).fill(0.5);

test('the new samplers stop between evaluations when cancelled, and name the step of a non-finite output', async () => {
  const sigmas = [10, 5, 2, 1, 0.5, 0];
  for (const name of NEW) {
    const controller = new AbortController();
    let calls = 0;
    const cancelling: Denoiser = async (x, s) => {
      if (++calls === 3) controller.abort();
      return constant(x, s);
    };
    await assert.rejects(
      SAMPLERS[name].sample(cancelling, new Float64Array(4), sigmas, { noise, signal: controller.signal }, {}),
      SamplingCancelled,
    );
    assert.equal(calls, 3, name);
    let n = 0;
    const broken: Denoiser = async (x) => new Float64Array(x.length).fill(++n === 4 ? NaN : 0.1);
    await assert.rejects(SAMPLERS[name].sample(broken, new Float64Array(4), sigmas, { noise }, {}), /not finite \(NaN\) at step \d, sigma/);
  }
});

test('the new samplers refuse bad schedules and options up front', async () => {
  for (const name of NEW) {
    await assert.rejects(SAMPLERS[name].sample(constant, new Float64Array(4), [1, 2, 0], { noise }, {}), SamplerError);
    if (SAMPLERS[name].reads?.includes('eta')) {
      await assert.rejects(
        SAMPLERS[name].sample(constant, new Float64Array(4), [2, 1, 0], { noise }, { eta: -1 }),
        /eta and s_noise must be >= 0/,
      );
    }
  }
});
