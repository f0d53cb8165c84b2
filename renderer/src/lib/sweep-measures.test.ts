// The Explore view's sweep: what the form lets through, checked against what the engine would measure.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { experimentAccepted, startExperiment } from './experiment.ts';
import { defaultForm } from './form.ts';
import {
  buildSweepRequest,
  defaultExploreForm,
  sweepProgressPercent,
  sweepProgressText,
  type SweepRequestInput,
  type SweepState,
} from './sweep.ts';

test('a CFG scale listed twice is refused: it would be a second point with the same seeds and images', () => {
  const form = defaultForm();
  for (const cfgText of ['1, 2, 2', '3 3', '2, 2.0, 5']) {
    const check = buildSweepRequest({ ...defaultExploreForm(), cfgText }, form);
    assert.equal(check.request, null, cfgText);
    assert.equal(check.images, 0, cfgText);
    assert.match(check.errors.cfgScales ?? '', /listed twice/, cfgText);
  }
  const distinct = buildSweepRequest({ ...defaultExploreForm(), cfgText: '1, 2, 2.5' }, form);
  assert.deepEqual(distinct.request?.cfgScales, [1, 2, 2.5]);
  assert.equal(distinct.errors.cfgScales, undefined);
});

// The engine makes a point's seeds in batches (6 seeds: one batch of 6, 12: two of 6, 7: one of 7, 11: eleven of 1) and
// reports imagesDone = the images of the finished batches, so a batch's images advance together.
test('sweep progress counts every image of the batch being made, not only its first', () => {
  const request: SweepRequestInput = { prompt: 'p', samplers: ['euler'], cfgScales: [1, 2, 3, 4, 5], seeds: 6, steps: 4 };
  let s: SweepState = experimentAccepted(startExperiment(request, 5), 's');
  const progress = (imagesDone: number, images: number, evaluation: number) => ({
    jobId: 's',
    imagesDone,
    images,
    evaluation,
    evaluations: 4,
  });
  // Point 1 of 5, its one batch of 6 at its last evaluation: all six images are made, so the sweep is 1/5 done.
  s = { ...s, progress: progress(0, 6, 4) };
  assert.equal(sweepProgressPercent(s), 20);
  assert.equal(sweepProgressText(s), 'Point 1 of 5 (euler, CFG 1) · images 1–6 of 6 · evaluation 4 / 4');
  // Halfway through the batch: half of the point.
  s = { ...s, progress: progress(0, 6, 2) };
  assert.equal(sweepProgressPercent(s), 10);
  // Twelve seeds: two batches of six; the second one halfway is 9 of 12 images' worth of the point.
  s = { ...s, request: { ...request, seeds: 12 }, progress: progress(6, 12, 2) };
  assert.equal(sweepProgressText(s), 'Point 1 of 5 (euler, CFG 1) · images 7–12 of 12 · evaluation 2 / 4');
  assert.equal(sweepProgressPercent(s), 15);
  // Eleven seeds: one image at a time.
  s = { ...s, request: { ...request, seeds: 11 }, progress: progress(3, 11, 2) };
  assert.equal(sweepProgressText(s), 'Point 1 of 5 (euler, CFG 1) · image 4 of 11 · evaluation 2 / 4');
  assert.equal(sweepProgressPercent(s), Math.round(((3 + 0.5) / 11 / 5) * 1000) / 10);
});
