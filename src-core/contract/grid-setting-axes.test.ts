// The grid's Eta, Sigma noise, Schedule min sigma, Schedule max sigma, Schedule rho and RNG source axes (A1111's X/Y/Z
// plot axes of those names, scripts/xyz_grid.py): the request fields' limits, the refusal of an Eta or Sigma noise axis
// that no cell's sampler reads, each cell's sigma range, and A1111's legend labels ("Eta: 0.5", "RNG source: CPU").
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describeIssues } from './generate.ts';
import { axisLabel, GridRequestSchema } from './experiments.ts';
import { CHURN_SAMPLERS, ETA_SAMPLERS, S_NOISE_SAMPLERS } from './grid-setting-axes.ts';
import { SAMPLER_NAMES, SAMPLERS } from '../samplers/index.ts';

const base = { prompt: 'a red circle', seed: 7, sampler: 'euler_ancestral' } as const;

function problems(request: unknown): string {
  const parsed = GridRequestSchema.safeParse(request);
  return parsed.success ? '' : describeIssues(parsed.error);
}

test("values take the request fields' limits: eta and sigma noise 0 to 10, sigmas and rho over 0, A1111's RNG sources", () => {
  for (const kind of ['eta', 'sNoise'] as const) {
    assert.equal(problems({ base, x: { kind, values: [0, 0.5, 10] } }), '', kind);
    assert.match(problems({ base, x: { kind, values: [10.5] } }), /^x\.values\.0: /, kind);
    assert.match(problems({ base, x: { kind, values: [-0.1] } }), /^x\.values\.0: /, kind);
  }
  for (const kind of ['scheduleSigmaMin', 'scheduleSigmaMax', 'scheduleRho'] as const) {
    assert.equal(problems({ base, x: { kind, values: [0.5, 3, 50] } }), '', kind);
    assert.match(problems({ base, x: { kind, values: [1, 0] } }), /^x\.values\.1: /, kind);
  }
  assert.match(problems({ base, x: { kind: 'scheduleRho', values: [101] } }), /^x\.values\.0: /);
  assert.match(problems({ base, x: { kind: 'scheduleSigmaMax', values: [10_001] } }), /^x\.values\.0: /);
  assert.equal(problems({ base, x: { kind: 'noiseSource', values: ['default', 'torch-cpu', 'torch-cuda'] } }), '');
  assert.match(problems({ base, x: { kind: 'noiseSource', values: ['GPU'] } }), /^x\.values\.0: /);
});

test('an Eta or Sigma noise axis that no cell samples with a sampler reading it is refused in words', () => {
  const euler = { ...base, sampler: 'euler' };
  assert.equal(
    problems({ base: euler, x: { kind: 'eta', values: [0, 1] } }),
    'x.kind: an Eta axis would make the same image in every cell: Euler ignores Eta; the samplers that read it are ' +
      'Euler a, DPM2 a, DPM++ 2S a, DPM++ SDE, DPM++ 2M SDE, DPM++ 2M SDE Heun, DPM++ 3M SDE',
  );
  assert.equal(
    problems({ base: euler, y: { kind: 'sNoise', values: [0.9, 1] }, x: { kind: 'steps', values: [4] } }),
    'y.kind: a Sigma noise axis would make the same image in every cell: Euler ignores Sigma noise; the samplers that ' +
      'read it are Euler a, DPM2 a, DPM++ 2S a, DPM++ SDE, DPM++ 2M SDE, DPM++ 2M SDE Heun, DPM++ 3M SDE, Restart ' +
      '(and Euler, Heun, DPM2 with a Sigma churn above 0)',
  );
  // A sampler axis (or hires fix's own sampler) with one sampler that reads it is a grid worth making.
  const samplers = { kind: 'sampler', values: ['euler', 'euler_ancestral'] };
  assert.equal(problems({ base: euler, x: { kind: 'eta', values: [0, 1] }, y: samplers }), '');
  const hires = { ...euler, hires: { scale: 2, sampler: 'dpmpp_sde' } };
  assert.equal(problems({ base: hires, x: { kind: 'eta', values: [0, 1] } }), '');
  // Restart reads the noise multiplier, not eta; Euler reads it where its sigma churn is on.
  const restart = { kind: 'restart', values: [{ preset: 'a1111' }] };
  assert.equal(problems({ base: euler, x: { kind: 'sNoise', values: [0.9, 1] }, y: restart }), '');
  assert.match(problems({ base: euler, x: { kind: 'eta', values: [0, 1] }, y: restart }), /^x\.kind: an Eta axis .*: Restart ignores Eta/);
  assert.equal(problems({ base: { ...euler, sChurn: 0.5 }, x: { kind: 'sNoise', values: [0.9, 1] } }), '');
  assert.equal(problems({ base, x: { kind: 'sNoise', values: [0.9, 1] } }), '');
});

test("the samplers named as reading eta and the noise multiplier are the engine registry's", () => {
  const readers = (setting: string) =>
    SAMPLER_NAMES.filter((name) => (SAMPLERS[name].reads as readonly string[] | undefined)?.includes(setting));
  assert.deepEqual([...ETA_SAMPLERS].sort(), readers('eta').sort());
  assert.deepEqual([...S_NOISE_SAMPLERS].sort(), readers('sNoise').sort());
  assert.deepEqual([...CHURN_SAMPLERS].sort(), readers('churn').sort());
});

test('a cell whose schedule max sigma is not above its min sigma is refused, at that axis value, in words', () => {
  const ranged = { ...base, scheduleSigmaMin: 0.5, scheduleSigmaMax: 20 };
  assert.equal(
    problems({ base: ranged, x: { kind: 'scheduleSigmaMax', values: [10, 0.5, 0.2] } }),
    "x.values.1: a cell would have schedule max sigma 0.5, not above the Generate form's min sigma 0.5: the max sigma " +
      'must be above the min sigma; ' +
      "x.values.2: a cell would have schedule max sigma 0.2, not above the Generate form's min sigma 0.5: the max sigma " +
      'must be above the min sigma',
  );
  assert.equal(
    problems({ base: ranged, y: { kind: 'scheduleSigmaMin', values: [0.1, 25] }, x: { kind: 'steps', values: [4] } }),
    "y.values.1: a cell would have the Generate form's max sigma 20, not above the Y axis's min sigma 25: the max sigma " +
      'must be above the min sigma',
  );
  // Both axes: the max sigma value that some row's min sigma reaches.
  assert.equal(
    problems({ base, x: { kind: 'scheduleSigmaMax', values: [5, 14] }, y: { kind: 'scheduleSigmaMin', values: [0.1, 10] } }),
    "x.values.0: a cell would have schedule max sigma 5, not above the Y axis's min sigma 10: the max sigma must be " +
      'above the min sigma',
  );
  assert.equal(problems({ base: ranged, x: { kind: 'scheduleSigmaMax', values: [1, 30] } }), '');
  // Without a min sigma in the base, the model's is the floor: the engine checks that (experiments/grid.ts).
  assert.equal(problems({ base, x: { kind: 'scheduleSigmaMax', values: [0.01, 1] } }), '');
});

test("labels as A1111's X/Y/Z plot legend writes them, the RNG source by A1111's RNG names", () => {
  assert.equal(axisLabel('eta', 0.5), 'Eta: 0.5');
  assert.equal(axisLabel('sNoise', 1), 'Sigma noise: 1');
  assert.equal(axisLabel('scheduleSigmaMin', 0.03), 'Schedule min sigma: 0.03');
  assert.equal(axisLabel('scheduleSigmaMax', 14.6), 'Schedule max sigma: 14.6');
  assert.equal(axisLabel('scheduleRho', 7), 'Schedule rho: 7');
  assert.equal(axisLabel('noiseSource', 'torch-cpu'), 'RNG source: CPU');
  assert.equal(axisLabel('noiseSource', 'torch-cuda'), 'RNG source: NV');
  assert.equal(axisLabel('noiseSource', 'default'), 'RNG source: default');
});
