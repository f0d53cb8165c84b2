import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ddimSchedule } from '../schedule/schedules.ts';
import { batchNoise, createNoiseStream, type NoiseStream } from '../noise/index.ts';
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
    batchNoise([createNoiseStream('default', 3)], 16),
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
        batchNoise([createNoiseStream('default', 1)], 8),
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

test('ancestral and Restart draws are made while the denoiser runs, and the latents are those of drawing on demand', async () => {
  for (const [sampler, options] of [
    ['euler_ancestral', {}],
    ['restart', { preset: 'sd' }],
  ] as const) {
    const plan = planSampling(model, { sampler, schedule: 'karras', steps: 8, options, guidanceScale: 5 });
    const run = async (ahead: boolean) => {
      let drawn = 0;
      const counted = (seed: number): NoiseStream => {
        const stream = createNoiseStream('default', seed);
        return { randn: (n: number) => (drawn++, stream.randn(n)) };
      };
      const batch = batchNoise([counted(4), counted(5)], 6);
      // Without prefetch: a plain function over the same streams draws only when asked.
      const noise = ahead ? batch : () => batch();
      // A denoiser that depends on x and sigma, and notes how many draws there were when it returned.
      const drawnAtReturn: number[] = [];
      const denoiser = async (x: Float64Array, sigma: number) => {
        await new Promise((resolve) => setImmediate(resolve));
        drawnAtReturn.push(drawn);
        return x.map((v, i) => Math.tanh(v / (1 + sigma)) + i / 100);
      };
      const x = noise().map((v) => v * plan.sigmas[0]);
      const latents = await plan.sampler.sample(denoiser, x, plan.sigmas, { noise }, plan.options);
      return { latents, drawnAtReturn, drawn };
    };
    const onDemand = await run(false),
      prefetched = await run(true);
    assert.deepEqual(prefetched.latents, onDemand.latents, sampler);
    assert.ok(
      prefetched.drawnAtReturn.some((n, i) => n > onDemand.drawnAtReturn[i]),
      `${sampler}: drawn at each return ${prefetched.drawnAtReturn} vs ${onDemand.drawnAtReturn}`,
    );
    assert.equal(prefetched.drawn, onDemand.drawn, `${sampler}: no draw made and not used`);
  }
});
