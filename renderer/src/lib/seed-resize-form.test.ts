// The Generate form's "Resize seed from" width and height: off by default and left out of the request while either is
// 0 (requests read as before), sent as both sides otherwise, refused in words when out of range, and filled from a
// PNG's "Seed resize from: WxH" (a PNG without it turns the resize off).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parametersToRequest } from '../../../src-core/pipeline/metadata.ts';
import { applyRequest, defaultForm, formToRequest } from './form.ts';

const form = { ...defaultForm(), prompt: 'a cat', seed: 42 };

test('off by default and while either side is 0; both sides are sent when set', () => {
  assert.deepEqual([defaultForm().seedResizeFromWidth, defaultForm().seedResizeFromHeight], [0, 0]);
  for (const [width, height] of [
    [0, 0],
    [512, 0],
    [null, 640],
  ]) {
    const off = formToRequest({ ...form, seedResizeFromWidth: width, seedResizeFromHeight: height }).value!;
    assert.ok(!('seedResizeFromWidth' in off) && !('seedResizeFromHeight' in off), `${width}x${height}`);
  }
  const on = formToRequest({ ...form, seedResizeFromWidth: 512, seedResizeFromHeight: 768 }).value!;
  assert.deepEqual([on.seedResizeFromWidth, on.seedResizeFromHeight], [512, 768]);
});

test('sides out of range are refused in words', () => {
  assert.equal(
    formToRequest({ ...form, seedResizeFromWidth: 4, seedResizeFromHeight: 64 }).error,
    'Resize seed from width must be from 8 to 4096 (or 0: off)',
  );
  assert.equal(
    formToRequest({ ...form, seedResizeFromWidth: 64, seedResizeFromHeight: 64.5 }).error,
    'Resize seed from height must be a whole number (or 0: off)',
  );
});

test("a PNG's Seed resize from fills the form; one without it turns the resize off", () => {
  const a1111 = 'a castle\nSteps: 20, Sampler: Euler, CFG scale: 7, Seed: 5, Size: 64x64, Seed resize from: 96x128';
  const filled = applyRequest(form, parametersToRequest(a1111).request);
  assert.deepEqual([filled.seedResizeFromWidth, filled.seedResizeFromHeight], [96, 128]);
  const sent = formToRequest(filled).value!;
  assert.deepEqual([sent.seedResizeFromWidth, sent.seedResizeFromHeight], [96, 128]);
  const plain = applyRequest(filled, parametersToRequest('a castle\nSteps: 20, Sampler: Euler, CFG scale: 7, Seed: 5').request);
  assert.deepEqual([plain.seedResizeFromWidth, plain.seedResizeFromHeight], [0, 0]);
});
