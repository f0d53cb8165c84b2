// A1111's LCM denoiser pieces against its own LCMCompVisDenoiser (modules/sd_samplers_lcm.py) over SD 1.5's table:
// tests/fixtures/a1111-samplers/lcm-grid.json, made by make_a1111_sampler_vectors.py in that folder.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { DiscreteSchedule } from '../schedule/discrete.ts';
import { lcmGrid, lcmSchedule, lcmTimestep } from '../schedule/lcm-grid.ts';
import { buildSchedule } from '../schedule/schedules.ts';
import { planSampling } from './run.ts';
import { sd15Schedule } from '../../tests/helpers/sd15-files.ts';

const doc = JSON.parse(readFileSync(new URL('../../tests/fixtures/a1111-samplers/lcm-grid.json', import.meta.url), 'utf8')) as {
  sigmas: number[];
  timesteps: number[];
  schedules: { steps: number; sigmas: number[] }[];
};
const model = sd15Schedule();

test("the UNet's timestep under LCM is A1111's: the nearest of the 50 LCM timesteps (19, 39, ..., 999)", () => {
  const grid = lcmGrid(model);
  assert.equal(doc.sigmas.length, 401);
  const seen = new Set<number>();
  doc.sigmas.forEach((sigma, i) => {
    assert.equal(lcmTimestep(grid, sigma), doc.timesteps[i], `sigma ${sigma}`);
    assert.equal(model.sigmaToTimestep(sigma, 'lcm'), doc.timesteps[i], `sigma ${sigma} through the 'lcm' timestep mode`);
    seen.add(doc.timesteps[i]);
  });
  assert.equal(seen.size, 50);
});

test("LCM's schedule is A1111's LCM get_sigmas (float32 there): our normal schedule on the 50 LCM sigmas", () => {
  const table = lcmSchedule(model);
  assert.equal(table.numTimesteps, 50);
  for (const c of doc.schedules) {
    const got = buildSchedule('normal', table, c.steps);
    assert.equal(got.length, c.sigmas.length, `${c.steps} steps`);
    got.forEach((sigma, i) =>
      assert.ok(Math.abs(sigma - c.sigmas[i]) <= 1e-6 * c.sigmas[i], `${c.steps} steps, sigma ${i}: ${sigma} vs ${c.sigmas[i]}`),
    );
  }
  // The plan for the LCM sampler uses that table and hands the sampler the grid.
  const plan = planSampling(model, { sampler: 'lcm', schedule: 'normal', steps: 4 });
  assert.deepEqual(plan.sigmas, buildSchedule('normal', table, 4));
  assert.equal(plan.options.lcmGrid?.skip, 20);
  assert.equal(plan.evaluations, 4);
});

test('LCM refuses a model with fewer than 50 timesteps in words', () => {
  const tiny = lcmSchedule(model); // 50 entries: fine; a 40-entry table is not
  assert.equal(lcmGrid(tiny).skip, 1);
  const short = new DiscreteSchedule({ num_train_timesteps: 40, beta_start: 0.001, beta_end: 0.02 });
  assert.throws(() => lcmGrid(short), /needs a model trained on at least 50 timesteps/);
});
