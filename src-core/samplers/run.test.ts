import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ddimSchedule } from '../schedule/schedules.ts';
import { createNoiseStream } from '../noise/index.ts';
import { planSampling, sampleLatents } from './run.ts';
import { SAMPLER_NAMES } from './index.ts';
import { sd15Schedule } from '../../tests/helpers/sd15-files.ts';

const model = sd15Schedule();

test("plans: DDIM uses its own timestep grid; Restart's sd preset takes the guidance scale", () => {
  const ddim = planSampling(model, { sampler: 'ddim', schedule: 'karras', steps: 20 });
  assert.deepEqual(ddim.sigmas, ddimSchedule(model, 20));
  assert.equal(ddim.evaluations, 20);
  const heun = planSampling(model, { sampler: 'heun', schedule: 'karras', steps: 20 });
  assert.equal(heun.evaluations, 39);
  const sd = planSampling(model, { sampler: 'restart', schedule: 'karras', steps: 30, options: { preset: 'sd' }, guidanceScale: 3 });
  assert.equal(sd.options.guidance_scale, 3);
  // 30 main Heun steps (59 evaluations) plus 2 passes of 9 Heun steps.
  assert.equal(sd.evaluations, 59 + 2 * 9 * 2);
  const a1111 = planSampling(model, { sampler: 'restart_a1111', schedule: 'karras', steps: 20 });
  assert.equal(a1111.evaluations, 39);
});

test("sampling starts from sigma_max * z drawn from each image's stream", async () => {
  const plan = planSampling(model, { sampler: 'euler', schedule: 'karras', steps: 1 });
  let seen: Float64Array | undefined;
  await sampleLatents(
    plan,
    async (x) => {
      seen = Float64Array.from(x);
      return new Float64Array(x.length);
    },
    [createNoiseStream('default', 3)],
    16,
  );
  const z = createNoiseStream('default', 3).randn(16);
  for (let i = 0; i < 16; i++) assert.ok(Math.abs(seen![i] - plan.sigmas[0] * z[i]) < 1e-12);
});

test('onEvaluation follows every accepted evaluation of every sampler, and not one whose output is not finite', async () => {
  for (const sampler of SAMPLER_NAMES) {
    const plan = planSampling(model, { sampler, schedule: 'karras', steps: 4 });
    const sigmas: number[] = [];
    let calls = 0;
    const run = (failAt: number) =>
      sampleLatents(
        plan,
        async (x) => (++calls === failAt ? new Float64Array(x.length).fill(NaN) : new Float64Array(x.length)),
        [createNoiseStream('default', 1)],
        8,
        { onEvaluation: (sigma) => sigmas.push(sigma) },
      );
    await run(0);
    assert.equal(sigmas.length, plan.evaluations, sampler);
    assert.equal(calls, plan.evaluations, sampler);
    sigmas.length = calls = 0;
    await assert.rejects(run(3), /not finite/);
    assert.equal(sigmas.length, 2, `${sampler}: the two evaluations before the non-finite one`);
  }
});
