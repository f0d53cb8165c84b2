// The Generate form's "Hires schedule type": "Same as the first pass" ('') sends nothing, a schedule is sent, a PNG's
// value comes back into the form (and one without it resets the field).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyImg2imgRequest, defaultHires, defaultImg2img, withImg2img } from './img2img.ts';

const checked = { value: { prompt: 'a circle', seed: 1, width: 32, height: 32 } };
const withHires = (hires: object) =>
  withImg2img(checked, defaultImg2img(), { ...defaultHires(), enabled: true, ...hires }, { vaeFactor: 8 });

test('hires schedule: the default sends nothing, a schedule is sent', () => {
  assert.equal(defaultHires().schedule, '');
  assert.deepEqual(withHires({}).value?.hires, { scale: 2, strength: 0.7, upscaler: 'latent' });
  assert.deepEqual(withHires({ schedule: 'beta' }).value?.hires, { scale: 2, strength: 0.7, upscaler: 'latent', schedule: 'beta' });
});

test('a PNG hires schedule fills the field; one without it resets the field', () => {
  assert.equal(
    applyImg2imgRequest(defaultImg2img(), defaultHires(), { hires: { scale: 2, schedule: 'exponential' } }).hires.schedule,
    'exponential',
  );
  const none = applyImg2imgRequest(defaultImg2img(), { ...defaultHires(), schedule: 'beta' }, { hires: { scale: 2 } });
  assert.equal(none.hires.schedule, '');
});
