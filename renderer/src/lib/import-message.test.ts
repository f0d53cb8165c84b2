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
