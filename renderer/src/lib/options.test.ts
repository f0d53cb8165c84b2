import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AppInfo } from '../../../src-core/contract/api.ts';
import { SAMPLER_CHOICES } from '../../../src-core/contract/generate.ts';
import { noiseSourceChoices, samplerChoices, samplerLabel, scheduleChoices } from './options.ts';

test('picker choices come from app.info, with fallbacks', () => {
  const info = {
    samplers: [
      { name: 'euler', label: 'Euler' },
      { name: 'restart', label: 'Restart' },
      { name: 'unknown', label: 'X' },
    ],
    schedules: ['normal'],
    noiseSources: ['default', 'torch-cpu'],
  } as unknown as AppInfo;
  assert.deepEqual(
    samplerChoices(info).map((c) => c.label),
    ['Euler', 'Restart'],
  );
  // Before app.info answers: every sampler of the contract, with A1111's labels.
  assert.equal(samplerChoices(null).length, SAMPLER_CHOICES.length);
  assert.equal(samplerLabel(null, 'dpmpp_2m_sde_heun'), 'DPM++ 2M SDE Heun');
  assert.equal(samplerLabel(null, 'lcm'), 'LCM');
  assert.deepEqual(
    scheduleChoices(null)
      .slice(-3)
      .map((c) => c.label),
    ['KL Optimal', 'Align Your Steps', 'Beta'],
  );
  assert.deepEqual(scheduleChoices(info), [{ value: 'normal', label: 'Normal' }]);
  assert.deepEqual(
    noiseSourceChoices(null).map((c) => c.label),
    ['Default', 'A1111 CPU', 'A1111 GPU / NV'],
  );
  assert.equal(noiseSourceChoices(info).length, 2);
  assert.equal(samplerLabel(null, 'dpmpp_2m'), 'DPM++ 2M');
});
