import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AppInfo } from '../../../src-core/contract/api.ts';
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
  assert.equal(samplerChoices(null).length, 6);
  assert.deepEqual(scheduleChoices(info), [{ value: 'normal', label: 'Normal' }]);
  assert.deepEqual(
    noiseSourceChoices(null).map((c) => c.label),
    ['Default', 'A1111 CPU', 'A1111 GPU / NV'],
  );
  assert.equal(noiseSourceChoices(info).length, 2);
  assert.equal(samplerLabel(null, 'dpmpp_2m'), 'DPM++ 2M');
});
