// The Generate form's hires "Resize width/height to": sent instead of the scale where a side is over 0, the
// target shown as the engine makes it (cropped to the resize's aspect), PNG values back into the form.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GenerateRequestSchema } from '../../../src-core/contract/generate.ts';
import { applyImg2imgRequest, defaultHires, defaultImg2img, hiresTarget, withImg2img } from './img2img.ts';

const checked = { value: { prompt: 'a circle', seed: 1, width: 32, height: 32 } };
const withHires = (hires: object) =>
  withImg2img(checked, defaultImg2img(), { ...defaultHires(), enabled: true, ...hires }, { vaeFactor: 8 });

test('a resize side replaces the scale in the request; without one the request is as before', () => {
  const resized = withHires({ resizeWidth: 48, resizeHeight: 40 });
  assert.deepEqual(resized.value?.hires, { resizeWidth: 48, resizeHeight: 40, strength: 0.7, upscaler: 'latent' });
  assert.ok(GenerateRequestSchema.safeParse(resized.value).success);
  assert.deepEqual(withHires({}).value?.hires, { scale: 2, strength: 0.7, upscaler: 'latent' });
  // The scale is not checked while a resize wins (A1111 ignores it then).
  assert.equal(withHires({ resizeWidth: 48, scale: null }).error, undefined);
  assert.match(withHires({ resizeWidth: 4 }).error ?? '', /^Hires resize width must be 0 \(off, or keep the aspect\) or a whole number/);
  assert.match(withHires({ resizeHeight: null }).error ?? '', /^Hires resize height must be/);
});

test("the target shown: A1111's cover-then-crop size, or the scaled size", () => {
  const target = (hires: object) => hiresTarget(32, 32, { ...defaultHires(), ...hires }, 8);
  assert.deepEqual(target({ resizeWidth: 48, resizeHeight: 40 }), { width: 48, height: 40 });
  assert.deepEqual(target({ resizeWidth: 48 }), { width: 48, height: 48 });
  assert.deepEqual(hiresTarget(64, 48, { ...defaultHires(), resizeHeight: 100 }, 8), { width: 128, height: 96 }, '133x100 to 8s');
  assert.deepEqual(target({ scale: 1.5 }), { width: 48, height: 48 });
});

test('PNG values fill the resize sides, and a scale-only PNG clears them', () => {
  const form = { ...defaultHires(), resizeWidth: 96 };
  const { hires } = applyImg2imgRequest(defaultImg2img(), form, { hires: { resizeWidth: 1024, resizeHeight: 1536 } });
  assert.deepEqual([hires.enabled, hires.resizeWidth, hires.resizeHeight, hires.scale], [true, 1024, 1536, 2]);
  const scaled = applyImg2imgRequest(defaultImg2img(), form, { hires: { scale: 1.5 } }).hires;
  assert.deepEqual([scaled.resizeWidth, scaled.resizeHeight, scaled.scale], [0, 0, 1.5]);
});
