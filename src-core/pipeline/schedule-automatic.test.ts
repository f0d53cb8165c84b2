// "Schedule type: Automatic" in A1111 parameters means each sampler's own default schedule.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parametersToRequest } from './metadata.ts';
import { pngToRequest } from './png-import.ts';

const line = (sampler: string) => `a cat\nSteps: 20, Sampler: ${sampler}, Schedule type: Automatic, CFG scale: 7, Seed: 1, Size: 64x64`;

test("Automatic maps per sampler as A1111 does: Karras for Restart and DPM++ 2M, the model's own (Normal) for Euler, Euler a, Heun", () => {
  assert.equal(parametersToRequest(line('Restart')).request.schedule, 'karras');
  assert.equal(parametersToRequest(line('DPM++ 2M')).request.schedule, 'karras');
  assert.equal(parametersToRequest(line('Euler')).request.schedule, 'normal');
  assert.equal(parametersToRequest(line('Euler a')).request.schedule, 'normal');
  assert.equal(parametersToRequest(line('Heun')).request.schedule, 'normal');
  assert.deepEqual(parametersToRequest(line('Restart')).notes, []);
});

test('the Restart PNG from A1111 (Schedule type: Automatic) loads with Karras', () => {
  const png = readFileSync(new URL('../../tests/fixtures/png/a1111-restart.png', import.meta.url));
  const { request } = pngToRequest(png);
  assert.equal(request.sampler, 'restart');
  assert.equal(request.schedule, 'karras');
});
