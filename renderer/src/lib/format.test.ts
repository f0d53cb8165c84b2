import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatEvaluations, formatMs, formatProgress, formatTimings, formatTokens, progressFraction } from './format.ts';
import { errorText, withContext } from './errors.ts';

test('evaluations text', () => {
  assert.equal(formatEvaluations(20, 39), '20 steps · 39 model evaluations');
  assert.equal(formatEvaluations(1, 1), '1 step · 1 model evaluation');
});

test("token count as A1111 shows it, and the engine's warning", () => {
  assert.deepEqual(formatTokens(12, 75), { text: '12/75', over: false, warning: null });
  assert.deepEqual(formatTokens(80, 150), { text: '80/150', over: false, warning: null });
  assert.deepEqual(formatTokens(80, 150, "this model's UNet takes 75 tokens; the rest is dropped"), {
    text: '80/150',
    over: true,
    warning: "this model's UNet takes 75 tokens; the rest is dropped",
  });
});

test('durations and timings', () => {
  assert.equal(formatMs(12.4), '12 ms');
  assert.equal(formatMs(1234), '1.23 s');
  assert.equal(formatMs(12_345), '12.3 s');
  assert.deepEqual(
    formatTimings({ textEncoderMs: 10, unetMs: 2000, vaeMs: 30, overheadMs: 4 }).map((t) => `${t.label} ${t.value}`),
    ['Text encoder 10 ms', 'UNet 2.00 s', 'VAE 30 ms', 'Overhead 4 ms'],
  );
});

test('progress text and fraction', () => {
  const p = { jobId: 'j', imagesDone: 1, images: 4, evaluation: 13, evaluations: 39 };
  assert.equal(formatProgress(p), 'Image 2 of 4 · evaluation 13 / 39');
  assert.equal(progressFraction(p), (1 + 13 / 39) / 4);
  assert.equal(progressFraction({ ...p, imagesDone: 4, evaluation: 39 }), 1);
  assert.equal(formatProgress({ ...p, imagesDone: 4 }), 'Image 4 of 4 · evaluation 13 / 39');
  assert.equal(progressFraction({ ...p, images: 0 }), 0);
});

test('a batch shares its evaluations: "Images 5–8 of 8", and half its evaluations is half of each of its images', () => {
  // Batch size 4, batch count 2: the second batch is being made, half way through.
  const p = { jobId: 'j', imagesDone: 4, images: 8, batch: 4, evaluation: 10, evaluations: 20 };
  assert.equal(formatProgress(p), 'Images 5–8 of 8 · evaluation 10 / 20');
  assert.equal(progressFraction(p), (4 + 4 * 0.5) / 8);
  assert.equal(formatProgress({ ...p, imagesDone: 0 }), 'Images 1–4 of 8 · evaluation 10 / 20');
  assert.equal(progressFraction({ ...p, imagesDone: 0 }), (4 * 0.5) / 8);
  // A last batch cut short by the total, and an engine that sends no batch (one image at a time).
  assert.equal(formatProgress({ ...p, images: 6 }), 'Images 5–6 of 6 · evaluation 10 / 20');
  assert.equal(formatProgress({ ...p, batch: undefined }), 'Image 5 of 8 · evaluation 10 / 20');
});

test('errors are prefixed with what the user was doing', () => {
  assert.equal(withContext('Could not generate', new Error('the prompt is too long')), 'Could not generate: the prompt is too long');
  assert.equal(withContext('Could not load', 'Error: no file'), 'Could not load: no file');
  assert.equal(errorText({ a: 1 }), '{"a":1}');
  assert.equal(withContext('Could not delete', new Error('')), 'Could not delete: Error');
});
