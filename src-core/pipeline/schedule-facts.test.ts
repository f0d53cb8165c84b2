// The pipeline hands the schedules the model's family: Align Your Steps takes NVIDIA's SDXL table for an SDXL model.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseGenerateRequest } from '../contract/generate.ts';
import type { StableDiffusionModel } from '../model/model.ts';
import { buildSchedule } from '../schedule/schedules.ts';
import { planFor } from './txt2img.ts';
import { sd15Schedule } from '../../tests/helpers/sd15-files.ts';

const schedule = sd15Schedule();
const fakeModel = (sdxl: boolean) => ({ schedule, info: sdxl ? { sdxl: {} } : {} }) as unknown as StableDiffusionModel;

test('a txt2img plan with Align Your Steps uses the SDXL table for an SDXL model and the SD 1.5 table otherwise', () => {
  const request = parseGenerateRequest({ prompt: 'x', seed: 1, sampler: 'euler', schedule: 'align_your_steps', steps: 10 });
  assert.deepEqual(planFor(fakeModel(true), request).sigmas, buildSchedule('align_your_steps', schedule, 10, { sdxl: true }));
  assert.deepEqual(planFor(fakeModel(false), request).sigmas, buildSchedule('align_your_steps', schedule, 10, { sdxl: false }));
  assert.notDeepEqual(planFor(fakeModel(true), request).sigmas, planFor(fakeModel(false), request).sigmas);
});
