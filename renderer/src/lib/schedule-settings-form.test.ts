// The Generate form's A1111 schedule settings: off by default and left out of the request, sent when set, refused in
// words when out of range, filled from a PNG (a PNG without them turns them off), kept across reloads.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parametersToRequest } from '../../../src-core/pipeline/metadata.ts';
import { applyRequest, defaultForm, formToRequest } from './form.ts';
import { readSaved, writeSaved } from './persist.ts';

const form = { ...defaultForm(), prompt: 'a cat', seed: 42 };
const KEYS = ['scheduleSigmaMin', 'scheduleSigmaMax', 'scheduleRho', 'discardPenultimateSigma'] as const;

test('off by default and left out; sent when set', () => {
  const off = formToRequest(form).value!;
  for (const key of KEYS) assert.ok(!(key in off), key);
  const on = formToRequest({ ...form, scheduleSigmaMin: 0.1, scheduleSigmaMax: 10, scheduleRho: 5, discardPenultimateSigma: true }).value!;
  assert.deepEqual(
    KEYS.map((k) => on[k]),
    [0.1, 10, 5, true],
  );
});

test('out of range and a max under the min are refused in words', () => {
  assert.equal(formToRequest({ ...form, scheduleRho: 0 }).error, 'Schedule rho must be a number over 0 and up to 100 (or empty: off)');
  assert.equal(
    formToRequest({ ...form, scheduleSigmaMin: -1 }).error,
    'Schedule min sigma must be a number over 0 and up to 10000 (or empty: off)',
  );
  assert.equal(
    formToRequest({ ...form, scheduleSigmaMin: 5, scheduleSigmaMax: 2 }).error,
    'Schedule max sigma must be above the min sigma',
  );
});

test("a PNG's schedule settings fill the form; one without them turns them off; they survive a reload", () => {
  const a1111 =
    'a castle\nSteps: 20, Sampler: DPM++ 2M, Schedule type: Karras, Seed: 5, Size: 64x64, ' +
    'Schedule min sigma: 0.05, Schedule max sigma: 12, Schedule rho: 6, Discard penultimate sigma: True';
  const filled = applyRequest(form, parametersToRequest(a1111).request);
  assert.deepEqual(
    KEYS.map((k) => filled[k]),
    [0.05, 12, 6, true],
  );
  const cleared = applyRequest(filled, parametersToRequest('a castle\nSteps: 20, Sampler: Euler, Seed: 5, Size: 64x64').request);
  assert.deepEqual(
    KEYS.map((k) => cleared[k]),
    [null, null, null, false],
  );
  const store = new Map<string, string>();
  const storage = { getItem: (k: string) => store.get(k) ?? null, setItem: (k: string, v: string) => void store.set(k, v) };
  writeSaved(storage, filled, 'generate');
  assert.deepEqual(
    KEYS.map((k) => readSaved(storage).form[k]),
    [0.05, 12, 6, true],
  );
});
