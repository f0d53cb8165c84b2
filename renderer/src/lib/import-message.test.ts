import { test } from 'node:test';
import assert from 'node:assert/strict';
import { importMessage } from './import-message.ts';

test('the import message names the image and says when a PNG had no parameters', () => {
  const loaded = importMessage('"from-a1111.png"', { request: { prompt: 'a cat', seed: 42 }, notes: [] });
  assert.equal(loaded.found, true);
  assert.equal(loaded.headline, 'Loaded parameters from "from-a1111.png".');
  const empty = importMessage('"plain.png"', { request: {}, notes: ['this PNG has no generation parameters'] });
  assert.equal(empty.found, false);
  assert.equal(empty.headline, '"plain.png": this PNG has no generation parameters.');
  assert.deepEqual(empty.notes, [], 'the headline says it; no repeat');
  const comfy = importMessage('"c.png"', {
    request: {},
    notes: ['this PNG comes from ComfyUI (a workflow, not A1111 parameters); it cannot fill the form'],
  });
  assert.equal(comfy.headline, '"c.png": this PNG has no generation parameters.');
  assert.equal(comfy.notes.length, 1, 'other reasons stay');
  const other = importMessage(
    'the gallery image "seed 42, 10:14, Euler"',
    { request: { seed: 42 }, notes: ['Clip skip 2 is not supported; using 1'], model: 'sd15' },
    'tiny',
  );
  assert.equal(other.headline, 'Loaded parameters from the gallery image "seed 42, 10:14, Euler":');
  assert.deepEqual(other.notes, [
    'Clip skip 2 is not supported; using 1',
    'the image was made with the model "sd15"; the current model is "tiny"',
  ]);
});

test('an img2img PNG loaded without a source image says the source is not in the PNG; with one, or for hires fix, nothing', () => {
  const result = { request: { prompt: 'a cat', seed: 42, strength: 0.6 }, notes: [] };
  const alone = importMessage('"i2i.png"', result);
  assert.equal(alone.headline, 'Loaded parameters from "i2i.png":');
  assert.equal(alone.notes.length, 1);
  assert.match(alone.notes[0], /^the image was made with img2img \(denoising strength 0\.6\) from a source image that PNGs do not carry: /);
  assert.match(alone.notes[0], /choose that image as the img2img source/);
  assert.deepEqual(importMessage('"i2i.png"', result, undefined, true).notes, [], 'a source is chosen: it is used');
  const hires = importMessage('"h.png"', { request: { seed: 1, hires: { scale: 2, strength: 0.6 } }, notes: [] });
  assert.deepEqual(hires.notes, [], "hires fix's strength is no img2img");
});
