// The Generate form's "Eta noise seed delta" (ENSD): off by default and left out of the request at 0 or empty
// (requests read as before), sent when over 0, refused in words when not a whole number in range, filled from a
// PNG's "ENSD: 31337" (a PNG without it turns it off), and kept across reloads like A1111's setting.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parametersToRequest } from '../../../src-core/pipeline/metadata.ts';
import { applyRequest, defaultForm, formToRequest } from './form.ts';
import { applySaved, readSaved, SETTINGS_KEY, writeSaved } from './persist.ts';

const form = { ...defaultForm(), prompt: 'a cat', sampler: 'euler_ancestral' as const, seed: 42 };

test('off by default and left out at 0 or empty; sent when over 0', () => {
  assert.equal(defaultForm().etaNoiseSeedDelta, 0);
  for (const off of [0, null]) {
    const request = formToRequest({ ...form, etaNoiseSeedDelta: off }).value!;
    assert.ok(request, `${off}`);
    assert.ok(!('etaNoiseSeedDelta' in request), `${off}`);
  }
  assert.equal(formToRequest({ ...form, etaNoiseSeedDelta: 31337 }).value!.etaNoiseSeedDelta, 31337);
  assert.equal(formToRequest({ ...form, etaNoiseSeedDelta: 4294967295 }).value!.etaNoiseSeedDelta, 4294967295);
});

test('a value that is not a whole number from 0 to 4294967295 is refused in words', () => {
  for (const bad of [-1, 1.5, 4294967296, Number.NaN]) {
    assert.deepEqual(
      formToRequest({ ...form, etaNoiseSeedDelta: bad }),
      { error: 'Eta noise seed delta must be a whole number from 0 (off) to 4294967295' },
      `${bad}`,
    );
  }
});

test('a PNG\'s "ENSD: 31337" fills the form; one without it turns it off', () => {
  const novelai = 'a castle\nSteps: 20, Sampler: Euler a, CFG scale: 7, Seed: 5, Size: 64x64, ENSD: 31337';
  const filled = applyRequest(form, parametersToRequest(novelai).request);
  assert.equal(filled.etaNoiseSeedDelta, 31337);
  assert.equal(formToRequest(filled).value!.etaNoiseSeedDelta, 31337);
  const plain = applyRequest(filled, parametersToRequest('a castle\nSteps: 20, Sampler: Euler a, CFG scale: 7, Seed: 5').request);
  assert.equal(plain.etaNoiseSeedDelta, 0);
  assert.ok(!('etaNoiseSeedDelta' in formToRequest(plain).value!));
});

test("kept across reloads like A1111's setting; a bad stored value is dropped", () => {
  const items = new Map<string, string>();
  const storage = { getItem: (k: string) => items.get(k) ?? null, setItem: (k: string, v: string) => void items.set(k, v) };
  writeSaved(storage, { ...form, etaNoiseSeedDelta: 31337 }, 'generate');
  assert.equal(applySaved(defaultForm(), readSaved(storage)).etaNoiseSeedDelta, 31337);
  for (const bad of [-5, 2.5, '31337', 1e12]) {
    items.set(SETTINGS_KEY, JSON.stringify({ etaNoiseSeedDelta: bad }));
    assert.equal(applySaved(defaultForm(), readSaved(storage)).etaNoiseSeedDelta, 0, JSON.stringify(bad));
  }
});
