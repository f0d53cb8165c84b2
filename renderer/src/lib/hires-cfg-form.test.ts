// The Generate form's "Hires CFG scale": empty sends nothing (the first pass's scale), a number is sent and checked,
// a PNG's value comes back into the form.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyImg2imgRequest, defaultHires, defaultImg2img, withImg2img } from './img2img.ts';

const checked = { value: { prompt: 'a circle', seed: 1, width: 32, height: 32 } };
const withHires = (hires: object) =>
  withImg2img(checked, defaultImg2img(), { ...defaultHires(), enabled: true, ...hires }, { vaeFactor: 8 });

test('hires CFG scale: empty leaves the request as before, a number is sent, out of range is refused in words', () => {
  assert.deepEqual(withHires({}).value?.hires, { scale: 2, strength: 0.7, upscaler: 'latent' });
  assert.deepEqual(withHires({ cfgScale: 1 }).value?.hires, { scale: 2, strength: 0.7, upscaler: 'latent', cfgScale: 1 });
  assert.match(withHires({ cfgScale: 51 }).error ?? '', /^Hires CFG scale must be from 0 to 50/);
  assert.match(withHires({ cfgScale: NaN }).error ?? '', /^Hires CFG scale must be/);
});

test('a PNG hires CFG scale fills the field; one without it empties the field', () => {
  const back = applyImg2imgRequest(defaultImg2img(), defaultHires(), { hires: { scale: 2, cfgScale: 4.5 } });
  assert.equal(back.hires.cfgScale, 4.5);
  const none = applyImg2imgRequest(defaultImg2img(), { ...defaultHires(), cfgScale: 3 }, { hires: { scale: 2 } });
  assert.equal(none.hires.cfgScale, null);
});
