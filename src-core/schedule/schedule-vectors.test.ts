// The schedules A1111 offers as "Schedule type", against k-diffusion's functions (and A1111's SGM Uniform and Simple)
// run in float64 on SD 1.5's sigma table: tests/fixtures/schedule-vectors-more.json, made by
// tests/fixtures/make_more_sampler_vectors.py.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { buildSchedule, SCHEDULE_NAMES, type ScheduleName } from './schedules.ts';
import { sd15Schedule } from '../../tests/helpers/sd15-files.ts';

interface ScheduleCase {
  schedule: ScheduleName;
  steps: number;
  sigmas: number[];
}

const doc = JSON.parse(readFileSync(new URL('../../tests/fixtures/schedule-vectors-more.json', import.meta.url), 'utf8')) as {
  cases: ScheduleCase[];
};
const model = sd15Schedule();

test('karras, exponential, polyexponential, sgm_uniform and simple match the reference sigmas', () => {
  assert.ok(doc.cases.length >= 20);
  for (const c of doc.cases) {
    const got = buildSchedule(c.schedule, model, c.steps);
    assert.equal(got.length, c.sigmas.length, `${c.schedule} ${c.steps}`);
    for (let i = 0; i < got.length; i++) {
      const error = Math.abs(got[i] - c.sigmas[i]) / Math.max(1, Math.abs(c.sigmas[i]));
      assert.ok(error <= 1e-12, `${c.schedule} ${c.steps} steps, sigma ${i}: ${got[i]} vs ${c.sigmas[i]}`);
    }
  }
});

test('every schedule name the engine knows is buildable and strictly decreasing, ending in 0 (KL Optimal: sigma_min)', () => {
  for (const name of SCHEDULE_NAMES) {
    const sigmas = buildSchedule(name, model, 25);
    assert.equal(sigmas.length, 26, name);
    assert.equal(sigmas[25], name === 'kl_optimal' ? model.sigmaMin : 0, name);
    for (let i = 1; i < sigmas.length; i++) assert.ok(sigmas[i] < sigmas[i - 1], `${name} sigma ${i}`);
  }
});

test('the new schedules refuse bad input in words', () => {
  assert.throws(() => buildSchedule('simple', model, 1001), /simple schedule takes at most 1000 steps/);
  assert.throws(() => buildSchedule('exponential', model, 0), /steps must be a whole number/);
  assert.throws(() => buildSchedule('polyexponential', model, 10, { rho: 0 }), /rho must be > 0/);
  assert.throws(() => buildSchedule('sgm_uniform', model, 10, { sigmaMin: 5, sigmaMax: 1 }), /must be greater/);
});
