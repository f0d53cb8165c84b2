import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DiscreteSchedule, ScheduleConfigError } from './discrete.ts';
import { buildSchedule, ddimSchedule, normalSchedule } from './schedules.ts';
import { karrasSchedule, linspace } from './karras.ts';
import { readSharedJson, sharedSkip } from '../../tests/helpers/shared.ts';
import { sd15SchedulerConfig } from '../../tests/helpers/sd15-files.ts';

const sd15 = sd15SchedulerConfig();
const model = new DiscreteSchedule(sd15);
const close = (a: number, b: number, rel = 1e-12) => assert.ok(Math.abs(a - b) <= rel * Math.max(1, Math.abs(b)), `${a} != ${b}`);

test('SD 1.5 sigma table comes from the scheduler config and matches the published range', () => {
  assert.equal(model.numTimesteps, 1000);
  // Values stated in specs/samplers.md for SD 1.5.
  assert.equal(model.sigmaMin.toFixed(4), '0.0292');
  assert.equal(model.sigmaMax.toFixed(4), '14.6146');
  // A different config gives a different table: nothing is hard-coded.
  const other = new DiscreteSchedule({ ...sd15, beta_end: 0.02, num_train_timesteps: 500 });
  assert.equal(other.numTimesteps, 500);
  assert.notEqual(other.sigmaMax, model.sigmaMax);
});

test("the embedded model's scheduler config is SD 1.5's (the tests read it from there)", { skip: sharedSkip() }, () => {
  assert.deepEqual(sd15, readSharedJson('reference/sd15-configs/scheduler_config.json'));
});

test('sigma -> timestep is linear in log-sigma between neighbours, and inverts timestep -> sigma', () => {
  for (const t of [0, 1, 17.25, 500.5, 998.9, 999]) close(model.sigmaToTimestep(model.timestepToSigma(t)), t, 1e-9);
  const mid = Math.exp((Math.log(model.sigmas[10]) + Math.log(model.sigmas[11])) / 2);
  close(model.sigmaToTimestep(mid), 10.5, 1e-9);
  assert.equal(model.sigmaToTimestep(mid, 'nearest') === 10 || model.sigmaToTimestep(mid, 'nearest') === 11, true);
  assert.equal(model.sigmaToTimestep(model.sigmas[400] * 1.001, 'nearest'), 400);
});

test('sigmas outside the model range clamp to the ends of the table', () => {
  assert.equal(model.sigmaToTimestep(1e-4), 0);
  assert.equal(model.sigmaToTimestep(80), 999);
  assert.equal(model.sigmaToTimestep(80, 'nearest'), 999);
  assert.throws(() => model.sigmaToTimestep(0), /sigma must be finite and > 0/);
  assert.throws(() => model.sigmaToTimestep(NaN), /sigma must be finite/);
  assert.throws(() => model.timestepToSigma(1000), /timestep must be in \[0, 999\]/);
});

test('karras schedule follows the formula, with the model range by default and a trailing zero', () => {
  const s = buildSchedule('karras', model, 10);
  assert.equal(s.length, 11);
  assert.equal(s[10], 0);
  close(s[0], model.sigmaMax);
  close(s[9], model.sigmaMin);
  const rho = 7,
    i = 4;
  const expected = (model.sigmaMax ** (1 / rho) + (i / 9) * (model.sigmaMin ** (1 / rho) - model.sigmaMax ** (1 / rho))) ** rho;
  close(s[i], expected, 1e-14);
  const one = karrasSchedule(1, 0.1, 10);
  assert.equal(one.length, 2, 'one step is just sigma_max, then 0');
  close(one[0], 10, 1e-15);
  assert.deepEqual(linspace(0, 1, 5), [0, 0.25, 0.5, 0.75, 1]);
});

test('normal schedule spaces timesteps evenly from 999 to 0, even with more steps than the table has', () => {
  const s = normalSchedule(model, 5);
  close(s[0], model.sigmas[999]);
  close(s[1], model.timestepToSigma(749.25));
  close(s[4], model.sigmas[0]);
  assert.equal(s[5], 0);
  const dense = normalSchedule(model, 1500);
  assert.equal(dense.length, 1501);
  for (let i = 1; i < dense.length; i++) assert.ok(dense[i] < dense[i - 1]);
  assert.deepEqual(normalSchedule(model, 1).length, 2);
});

test('ddim schedule uses t_k = k * (T // n) + steps_offset', () => {
  const s = ddimSchedule(model, 50);
  // diffusers' DDIMScheduler with SD 1.5's config: 981, 961, ..., 1.
  close(s[0], model.sigmas[981]);
  close(s[49], model.sigmas[1]);
  assert.equal(s[50], 0);
  assert.throws(() => ddimSchedule(model, 1000), /DDIM takes at most 999 steps/);
});

test('bad configs and step counts give clear errors', () => {
  assert.throws(() => new DiscreteSchedule({ ...sd15, beta_schedule: 'cosine-ish' }), ScheduleConfigError);
  assert.throws(() => new DiscreteSchedule({ ...sd15, beta_start: 0.5, beta_end: 0.1 }), /beta_start < beta_end/);
  assert.throws(() => new DiscreteSchedule({ ...sd15, num_train_timesteps: 1.5 }), /num_train_timesteps/);
  assert.throws(() => buildSchedule('karras', model, 0), /steps must be a whole number/);
  assert.throws(() => buildSchedule('karras', model, 10, { sigmaMin: 5, sigmaMax: 1 }), /must be greater/);
  assert.throws(() => buildSchedule('sideways' as never, model, 10), /unknown schedule/);
});
