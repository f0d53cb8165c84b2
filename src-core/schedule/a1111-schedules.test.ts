// KL Optimal, Align Your Steps and Beta against A1111's own functions (modules/sd_schedulers.py) run in float64 on SD
// 1.5's sigma table, and the beta quantile against scipy: tests/fixtures/a1111-schedules/schedule-vectors-a1111.json,
// made by make_a1111_schedule_vectors.py in that folder.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { buildSchedule, type ScheduleName } from './schedules.ts';
import { betaQuantile } from './beta-distribution.ts';
import { linspace } from './karras.ts';
import { sd15Schedule } from '../../tests/helpers/sd15-files.ts';

interface ScheduleCase {
  schedule: ScheduleName | 'uniform';
  steps: number;
  sdxl?: boolean;
  sigmas: number[];
}
interface PpfCase {
  alpha: number;
  beta: number;
  p: number[];
  x: number[];
}

const doc = JSON.parse(
  readFileSync(new URL('../../tests/fixtures/a1111-schedules/schedule-vectors-a1111.json', import.meta.url), 'utf8'),
) as {
  cases: ScheduleCase[];
  betaPpf: PpfCase[];
};
const model = sd15Schedule();

function assertSigmas(got: number[], want: number[], label: string): void {
  assert.equal(got.length, want.length, `${label}: length`);
  for (let i = 0; i < got.length; i++) {
    const error = Math.abs(got[i] - want[i]) / Math.max(1, Math.abs(want[i]));
    assert.ok(error <= 1e-12, `${label}, sigma ${i}: ${got[i]} vs ${want[i]}`);
  }
}

function casesOf(name: ScheduleCase['schedule']): ScheduleCase[] {
  const cases = doc.cases.filter((c) => c.schedule === name);
  assert.ok(cases.length >= 9, `${name}: reference cases`);
  return cases;
}

test('KL Optimal matches A1111, ending at sigma_min rather than 0', () => {
  for (const c of casesOf('kl_optimal')) assertSigmas(buildSchedule('kl_optimal', model, c.steps), c.sigmas, `kl_optimal ${c.steps}`);
  assert.equal(buildSchedule('kl_optimal', model, 5).at(-1), model.sigmaMin);
});

test('Align Your Steps matches A1111 with the SD 1.5 table, and with the SDXL table for an SDXL model', () => {
  const cases = casesOf('align_your_steps');
  assert.ok(cases.some((c) => c.sdxl) && cases.some((c) => !c.sdxl));
  for (const c of cases) {
    assertSigmas(
      buildSchedule('align_your_steps', model, c.steps, { sdxl: c.sdxl }),
      c.sigmas,
      `align_your_steps ${c.steps} sdxl ${c.sdxl}`,
    );
  }
  // The tables differ from the third sigma on: the family matters.
  assert.notEqual(buildSchedule('align_your_steps', model, 10, { sdxl: true })[2], buildSchedule('align_your_steps', model, 10)[2]);
});

test('Beta (alpha = beta = 0.6) matches A1111', () => {
  for (const c of casesOf('beta')) assertSigmas(buildSchedule('beta', model, c.steps), c.sigmas, `beta ${c.steps}`);
});

test("A1111's Uniform and Normal both give the app's normal schedule, up to k-diffusion's float32 timesteps", () => {
  for (const name of ['uniform', 'normal'] as const) {
    for (const c of casesOf(name)) {
      const got = buildSchedule('normal', model, c.steps);
      assert.equal(got.length, c.sigmas.length);
      // k-diffusion's t_to_sigma rounds t to float32 (899.1 moves by 2e-5): about 1e-7 of a sigma, below A1111's float32.
      got.forEach((sigma, i) => assert.ok(Math.abs(sigma - c.sigmas[i]) <= 3e-7 * c.sigmas[i], `${name} ${c.steps}, sigma ${i}`));
      const rounded = linspace(model.numTimesteps - 1, 0, c.steps).map((t) => model.timestepToSigma(Math.fround(t)));
      assertSigmas([...rounded, 0], c.sigmas, `${name} ${c.steps} with float32 timesteps`);
    }
  }
});

test('the beta quantile matches scipy.stats.beta.ppf', () => {
  assert.ok(doc.betaPpf.length >= 5);
  for (const c of doc.betaPpf) {
    assert.ok(c.p.length >= 40);
    // Tiny alpha or beta magnify log Gamma's last-bit error (1e-15 / 0.01); A1111's 0.6 is far from that.
    const tolerance = Math.min(c.alpha, c.beta) < 0.1 ? 1e-12 : 1e-13;
    c.p.forEach((p, i) => {
      const got = betaQuantile(p, c.alpha, c.beta),
        want = c.x[i];
      assert.ok(Math.abs(got - want) <= tolerance * Math.abs(want), `ppf(${p}, ${c.alpha}, ${c.beta}): ${got} vs ${want}`);
    });
  }
  assert.throws(() => betaQuantile(0.5, 0, 1), /alpha > 0 and beta > 0/);
  assert.throws(() => betaQuantile(1.5, 0.6, 0.6), /probability must be in \[0, 1\]/);
});

test('the new schedules refuse bad step counts in words', () => {
  for (const name of ['kl_optimal', 'align_your_steps', 'beta'] as const) {
    assert.throws(() => buildSchedule(name, model, 0), /steps must be a whole number/);
  }
});

test("A1111's sigma min, sigma max and rho settings: each schedule that reads them, as A1111 hands them over", () => {
  const { ranged } = doc as unknown as {
    ranged: { schedule: ScheduleName; steps: number; sigmaMin: number; sigmaMax: number; rho: number; sigmas: number[] }[];
  };
  assert.ok(ranged.length >= 60);
  for (const c of ranged) {
    const got = buildSchedule(c.schedule, model, c.steps, { sigmaMin: c.sigmaMin, sigmaMax: c.sigmaMax, rho: c.rho });
    assertSigmas(got, c.sigmas, `${c.schedule} ${c.steps} over ${c.sigmaMin}..${c.sigmaMax} rho ${c.rho}`);
  }
});
