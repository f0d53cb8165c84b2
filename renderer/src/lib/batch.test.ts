import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultForm, formToRequest, imageTotalText } from './form.ts';
import { queuedLabel } from './generate-queue.svelte.ts';

test('batch count x batch size images, as A1111: Images 1 with Batch size 8 is 8 images', () => {
  const form = { ...defaultForm(), prompt: 'a cat', count: 1, batchSize: 8 };
  const request = formToRequest(form, { random: () => 0.5 }).value!;
  assert.equal(request.count, 1);
  assert.equal(request.batchSize, 8);
  assert.equal(imageTotalText(form), '8 images');
  assert.equal(imageTotalText({ count: 3, batchSize: 2 }), '6 images (3 batches of 2)');
  assert.equal(imageTotalText({ count: 1, batchSize: 1 }), '1 image');
  assert.equal(queuedLabel(request).includes('8 images'), true);
});
