import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AccuracyTally, promptAccuracy, type Labels } from './evaluator.ts';

test('AccuracyTally counts each attribute and all-right images across batches', () => {
  const wanted: Labels = { background: 1, shape: 2, color: 3, count: 0 };
  const tally = new AccuracyTally();
  const batch1: Labels[] = [wanted, { ...wanted, shape: 0 }];
  tally.add(batch1, wanted);
  tally.add([{ background: 0, shape: 0, color: 3, count: 1 }, wanted], wanted);
  assert.equal(tally.images, 4);
  assert.deepEqual(tally.hits, { background: 3, shape: 2, color: 4, count: 3 });
  assert.equal(tally.rate('all'), 0.5);
  assert.equal(tally.rate('shape'), 0.5);
  assert.equal(tally.rate('color'), 1);
  assert.equal(promptAccuracy(batch1, wanted), 0.5);
});
