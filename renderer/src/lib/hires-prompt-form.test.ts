// The Generate form's "Hires prompt" and "Hires negative prompt": empty (the prompt's) sends nothing, a text is sent,
// a PNG's texts come back into the form (and one without them empties the fields).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyImg2imgRequest, defaultHires, defaultImg2img, withImg2img } from './img2img.ts';

const checked = { value: { prompt: 'a circle', seed: 1, width: 32, height: 32 } };
const withHires = (hires: object) =>
  withImg2img(checked, defaultImg2img(), { ...defaultHires(), enabled: true, ...hires }, { vaeFactor: 8 });

test('hires prompts: empty sends nothing, a text is sent', () => {
  assert.equal(defaultHires().prompt, '');
  assert.equal(defaultHires().negativePrompt, '');
  assert.deepEqual(withHires({}).value?.hires, { scale: 2, strength: 0.7, upscaler: 'latent' });
  assert.deepEqual(withHires({ prompt: 'a square', negativePrompt: 'blurry' }).value?.hires, {
    scale: 2,
    strength: 0.7,
    upscaler: 'latent',
    prompt: 'a square',
    negativePrompt: 'blurry',
  });
});

test("a PNG's hires prompts fill the fields; one without them empties the fields", () => {
  const filled = applyImg2imgRequest(defaultImg2img(), defaultHires(), { hires: { scale: 2, prompt: 'a square', negativePrompt: 'dark' } });
  assert.equal(filled.hires.prompt, 'a square');
  assert.equal(filled.hires.negativePrompt, 'dark');
  const none = applyImg2imgRequest(defaultImg2img(), { ...defaultHires(), prompt: 'x', negativePrompt: 'y' }, { hires: { scale: 2 } });
  assert.equal(none.hires.prompt, '');
  assert.equal(none.hires.negativePrompt, '');
});
