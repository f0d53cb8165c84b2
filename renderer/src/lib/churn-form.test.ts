// The Generate form's sigma churn: off and left out by default, sent when set for Euler, Heun and DPM2 only, refused in
// words when out of range, filled from a PNG (one without it turns it off); the samplers it names are the engine's.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parametersToRequest } from '../../../src-core/pipeline/metadata.ts';
import { SAMPLER_NAMES, SAMPLERS } from '../../../src-core/samplers/index.ts';
import { CHURN_SAMPLERS } from './churn-form.ts';
import { applyRequest, defaultForm, formToRequest } from './form.ts';
import { readSaved, writeSaved } from './persist.ts';

const form = { ...defaultForm(), prompt: 'a cat', seed: 42 };
const KEYS = ['sChurn', 'sTmin', 'sTmax'] as const;

test('off by default and left out; sent when set, for Euler, Heun and DPM2 only', () => {
  const off = formToRequest(form).value!;
  for (const key of KEYS) assert.ok(!(key in off), key);
  for (const sampler of ['euler', 'heun', 'dpm_2'] as const) {
    const on = formToRequest({ ...form, sampler, sChurn: 0.5, sTmin: 0.2, sTmax: 5 }).value!;
    assert.deepEqual(
      KEYS.map((k) => on[k]),
      [0.5, 0.2, 5],
      sampler,
    );
  }
  const ancestral = formToRequest({ ...form, sampler: 'euler_ancestral', sChurn: 0.5, sTmin: 0.2, sTmax: 5 }).value!;
  for (const key of KEYS) assert.ok(!(key in ancestral), key);
});

test('out of range is refused in words', () => {
  assert.equal(formToRequest({ ...form, sChurn: -1 }).error, 'Sigma churn must be a number from 0 up to 100 (or empty: off)');
  assert.equal(formToRequest({ ...form, sTmax: 0 }).error, 'Sigma tmax must be a number over 0 up to 1000 (or empty: off)');
  assert.equal(formToRequest({ ...form, sTmin: NaN }).error, 'Sigma tmin must be a number from 0 up to 1000 (or empty: off)');
});

test("an A1111 PNG's churn fills the form; one without it turns it off", () => {
  const a1111 = 'a castle\nSteps: 20, Sampler: Heun, Schedule type: Karras, Seed: 5, Size: 64x64, Sigma churn: 0.4, Sigma tmax: 3';
  const filled = applyRequest(form, parametersToRequest(a1111).request);
  assert.deepEqual(
    KEYS.map((k) => filled[k]),
    [0.4, null, 3],
  );
  const plain = applyRequest(filled, parametersToRequest('a castle\nSteps: 20, Sampler: Heun, Seed: 5, Size: 64x64').request);
  assert.deepEqual(
    KEYS.map((k) => plain[k]),
    [null, null, null],
  );
});

test("the form's churn samplers are the engine's", () => {
  assert.deepEqual(
    [...CHURN_SAMPLERS],
    SAMPLER_NAMES.filter((name) => SAMPLERS[name].reads?.includes('churn')),
  );
});

test('the churn settings survive a reload, as A1111 keeps them as settings', () => {
  const store = new Map<string, string>();
  const storage = { getItem: (k: string) => store.get(k) ?? null, setItem: (k: string, v: string) => void store.set(k, v) };
  writeSaved(storage, { ...defaultForm(), sChurn: 0.5, sTmin: 0.2, sTmax: 8 }, 'generate');
  const { form: saved } = readSaved(storage);
  assert.deepEqual([saved.sChurn, saved.sTmin, saved.sTmax], [0.5, 0.2, 8]);
});
