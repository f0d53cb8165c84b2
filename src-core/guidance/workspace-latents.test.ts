// The host's linear runs (WorkspaceLatents: a step in one kernel pass over the denoiser's workspace) against the
// samplers' own loops over the same denoiser: every sampler's latent, its noise draws, progress per evaluation, every
// step's report, non-finite errors, cancellation, and the own loop where a latent has no workspace.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planSampling, runSampler, type SamplingPlan } from '../samplers/run.ts';
import { SamplerError, SamplingCancelled, type Denoiser, type SampleContext, type StepInfo } from '../samplers/types.ts';
import { guidedDenoiser } from './denoiser.ts';
import type { UNetCall } from './unet.ts';
import { encoding, largestDifference, noiseFor, ownLoop, RUNS, schedule, standIn } from '../../tests/helpers/linear-runs.ts';

interface Setup {
  prediction?: 'epsilon' | 'v_prediction';
  scale?: number;
  half?: boolean;
  images?: number;
  poison?: number;
}

/** The host denoiser, and the number of times it was called itself (a linear run calls the UNet, not the denoiser). */
function setup({ prediction = 'epsilon', scale = 7, half = false, images = 2, poison }: Setup = {}) {
  const unet: UNetCall = Object.assign(async (input: Parameters<UNetCall>[0]) => standIn(input.sample, input, poison), { halves: half });
  const denoiser = guidedDenoiser({ unet, schedule, prediction, batch: images, cond: encoding(1), uncond: encoding(-0.5), scale });
  const counted = { calls: 0 };
  const watched: Denoiser = Object.assign((x: Float64Array, sigma: number) => (counted.calls++, denoiser(x, sigma)), denoiser);
  return { denoiser: watched, counted };
}

type How = (plan: SamplingPlan, denoiser: Denoiser, x: Float64Array, ctx: SampleContext) => Promise<Float64Array>;

async function run(plan: SamplingPlan, denoiser: Denoiser, how: How, images = 2, ctx: Partial<SampleContext> = {}) {
  const noise = noiseFor(images);
  const sigmas: number[] = [];
  const result = await how(
    plan,
    denoiser,
    noise().map((v) => v * plan.sigmas[0]),
    {
      noise,
      onEvaluation: (s) => sigmas.push(s),
      ...ctx,
    },
  );
  return { result, sigmas, next: noise()[0] };
}

for (const { name, sampler, steps, options } of RUNS) {
  for (const [prediction, scale, half] of [
    ['epsilon', 7, false],
    ['v_prediction', 7, false],
    ['epsilon', 1, false],
    ['epsilon', 7, true],
  ] as const) {
    const unet = half ? ', fp16 UNet' : '';
    test(`${name}, ${prediction}, scale ${scale}${unet}: the host's linear run gives the sampler's latent`, async () => {
      const plan = planSampling(schedule, { sampler, schedule: 'karras', steps, options });
      const reference = setup({ prediction, scale, half });
      const expected = await run(plan, reference.denoiser, ownLoop);
      assert.equal(reference.counted.calls, plan.evaluations);
      const { denoiser, counted } = setup({ prediction, scale, half });
      // Twice on one denoiser: its workspace's arrays hold the first run's values when the second starts.
      for (const round of [1, 2]) {
        const got = await run(plan, denoiser, runSampler);
        assert.equal(counted.calls, 0, 'the steps ran in the workspace, not through the denoiser');
        assert.deepEqual(got.sigmas, expected.sigmas, 'progress at every evaluation');
        assert.equal(got.next, expected.next, 'the same number of draws from the noise');
        const worst = largestDifference(expected.result, got.result);
        assert.ok(worst < 1e-9, `round ${round}: largest difference ${worst}`);
      }
      assert.ok(Math.max(...expected.result.map(Math.abs)) > 0.1, 'a latent that is not all zeros');
    });
  }
}

/** Copies of the steps a run reports. */
async function reports(plan: SamplingPlan, denoiser: Denoiser, how: How, stepDue?: () => boolean): Promise<StepInfo[]> {
  const steps: StepInfo[] = [];
  const onStep = (info: StepInfo) => steps.push({ ...info, x: Float64Array.from(info.x), denoised: Float64Array.from(info.denoised) });
  await run(plan, denoiser, how, 2, { onStep, stepDue });
  return steps;
}

test("every step is reported as the sampler's loop reports it (Heun's with its first estimate), when due", async () => {
  for (const sampler of ['heun', 'dpmpp_2m', 'restart']) {
    const plan = planSampling(schedule, { sampler, schedule: 'karras', steps: 5 });
    const expected = await reports(plan, setup().denoiser, ownLoop);
    const got = await reports(plan, setup().denoiser, runSampler);
    assert.equal(got.length, expected.length, sampler);
    for (const [i, s] of got.entries()) {
      const e = expected[i];
      assert.deepEqual([s.step, s.sigma, s.sigmaNext, s.totalSteps], [e.step, e.sigma, e.sigmaNext, e.totalSteps], sampler);
      assert.ok(largestDifference(e.denoised, s.denoised) < 1e-9, `${sampler} step ${s.step}'s estimate`);
      assert.ok(largestDifference(e.x, s.x) < 1e-9, `${sampler} step ${s.step}'s latent`);
    }
  }
  const plan = planSampling(schedule, { sampler: 'euler', schedule: 'karras', steps: 6 });
  let asked = 0;
  const due = await reports(plan, setup().denoiser, runSampler, () => asked++ % 2 === 0);
  assert.deepEqual(
    due.map((s) => s.step),
    [0, 2, 4],
  );
});

test('a non-finite estimate is the same error as in the sampler loop; a cancelled run stops at once', async () => {
  const plan = planSampling(schedule, { sampler: 'euler', schedule: 'karras', steps: 6 });
  const poison = schedule.sigmaToTimestep(plan.sigmas[2]) + 1e-9; // NaN from the third step on
  const expected = await run(plan, setup({ poison }).denoiser, ownLoop).then(
    () => assert.fail('no error'),
    (e: Error) => e,
  );
  assert.ok(expected instanceof SamplerError);
  assert.match(expected.message, /not finite \(NaN\) at step 2, sigma /);
  await assert.rejects(run(plan, setup({ poison }).denoiser, runSampler), { name: 'SamplerError', message: expected.message });
  const controller = new AbortController();
  let evaluations = 0;
  const onEvaluation = () => ++evaluations === 2 && controller.abort();
  await assert.rejects(run(plan, setup().denoiser, runSampler, 2, { signal: controller.signal, onEvaluation }), SamplingCancelled);
  assert.equal(evaluations, 2);
});

test("a latent with no workspace (not a multiple of 4 values) runs the sampler's own loop", async () => {
  const plan = planSampling(schedule, { sampler: 'dpmpp_2m', schedule: 'karras', steps: 4 });
  const { denoiser, counted } = setup({ images: 1 }); // 18 values
  await run(plan, denoiser, runSampler, 1);
  assert.equal(counted.calls, plan.evaluations);
});
