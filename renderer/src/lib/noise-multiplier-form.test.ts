// The Generate form's img2img "Noise multiplier": 1 (its default) sends nothing, another value from 0 to 1.5 is sent
// with the source image, a value out of range or empty is refused in words, text to image never sends it, and a
// PNG's value comes back into the field (absent: 1, as A1111 writes it only where it is not 1).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyImg2imgRequest, defaultHires, defaultImg2img, withImg2img } from './img2img.ts';

const checked = { value: { prompt: 'a circle', seed: 1, width: 32, height: 32 } };
const source = { ref: 'upload:abc.png', url: 'blob:x', name: 'in.png', width: 32, height: 32 };
const withSource = (noiseMultiplier: number | null) =>
  withImg2img(checked, { ...defaultImg2img(), source, noiseMultiplier }, defaultHires(), { vaeFactor: 8 });

test('noise multiplier: 1 sends nothing, another value is sent with the source, out of range or empty is refused', () => {
  assert.equal(defaultImg2img().noiseMultiplier, 1);
  assert.equal(withSource(1).value?.img2imgNoiseMultiplier, undefined);
  assert.equal(withSource(1).value?.initImage, 'upload:abc.png');
  assert.equal(withSource(0.4).value?.img2imgNoiseMultiplier, 0.4);
  assert.equal(withSource(0).value?.img2imgNoiseMultiplier, 0);
  for (const bad of [1.6, -0.1, null, NaN]) {
    assert.equal(withSource(bad).error, 'Noise multiplier must be from 0 to 1.5 (1 leaves the noise as drawn)', String(bad));
  }
  // Without a source image the run is text to image: the field is not sent.
  const txt2img = withImg2img(checked, { ...defaultImg2img(), noiseMultiplier: 0.4 }, defaultHires(), { vaeFactor: 8 });
  assert.equal(txt2img.value?.img2imgNoiseMultiplier, undefined);
});

test("a PNG's noise multiplier fills the field; one without it sets 1", () => {
  assert.equal(
    applyImg2imgRequest(defaultImg2img(), defaultHires(), { strength: 0.5, img2imgNoiseMultiplier: 0.7 }).img2img.noiseMultiplier,
    0.7,
  );
  const none = applyImg2imgRequest({ ...defaultImg2img(), noiseMultiplier: 0.3 }, defaultHires(), { strength: 0.5 });
  assert.equal(none.img2img.noiseMultiplier, 1);
});
