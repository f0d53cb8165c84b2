import { test } from 'node:test';
import assert from 'node:assert/strict';
import { progressPace } from './progress-pace.ts';

const at = (evaluation: number, evaluations = 20) => ({ imagesDone: 0, images: 1, evaluation, evaluations });

test('progress is sent at most once per interval, and always at a batch last evaluation', () => {
  const paced = progressPace(50);
  const sent = [
    paced(at(1), 0), // the job's first report
    paced(at(2), 10),
    paced(at(3), 49.9),
    paced(at(4), 50), // an interval after the first
    paced(at(5), 60),
    paced(at(20), 61), // the last evaluation, however soon
    paced(at(1), 62), // the next batch's first, right after its end: within the interval
    paced(at(2), 112),
  ];
  assert.deepEqual(sent, [true, false, false, true, false, true, false, true]);
});

test('evaluations slower than the interval are each reported', () => {
  const paced = progressPace(50);
  assert.deepEqual(
    [1, 2, 3, 4].map((e) => paced(at(e, 4), e * 80)),
    [true, true, true, true],
  );
});
