import { test } from 'node:test';
import assert from 'node:assert/strict';
import { progressEvents, type ProgressEvent } from './progress-pace.ts';

const at = (evaluation: number, evaluations = 20) => ({ imagesDone: 0, images: 1, batch: 1, evaluation, evaluations });
const preview = { width: 2, height: 1, rgba: new Uint8Array(8) };

/** The events sent for reports given as [report, time], as 'progress E' or 'preview E'. */
function sentFor(reports: Array<[ReturnType<typeof at> & { preview?: typeof preview; step?: number }, number]>): string[] {
  const sent: ProgressEvent[] = [];
  const report = progressEvents((event) => sent.push(event), 50);
  for (const [progress, now] of reports) report(progress, now);
  return sent.map(named);
}
const named = (e: ProgressEvent) => `${e.event} ${e.event === 'preview' ? e.progress.evaluation : e.evaluation}`;

test('progress is sent at most once per interval, and always at a batch last evaluation', () => {
  const sent = sentFor([
    [at(1), 0], // the job's first report
    [at(2), 10],
    [at(3), 49.9],
    [at(4), 50], // an interval after the first
    [at(5), 60],
    [at(20), 61], // the last evaluation, however soon
    [at(1), 62], // the next batch's first, right after its end: within the interval
    [at(2), 112],
  ]);
  assert.deepEqual(sent, ['progress 1', 'progress 4', 'progress 20', 'progress 2']);
});

test('evaluations slower than the interval are each reported', () => {
  assert.deepEqual(sentFor([1, 2, 3, 4].map((e) => [at(e, 4), e * 80])), ['progress 1', 'progress 2', 'progress 3', 'progress 4']);
});

test('every preview is sent with the counts of its moment, and stands for a progress event within the interval', () => {
  const sent: ProgressEvent[] = [];
  const report = progressEvents((event) => sent.push(event), 50);
  report({ ...at(1) }, 0);
  report({ ...at(6), step: 6, steps: 20, sigma: 2.5, preview }, 55); // a preview: always sent
  report(at(7), 56); // within the interval of the preview
  report(at(12), 104);
  report(at(13), 106); // an interval after the preview
  report({ ...at(14), step: 14, steps: 20, preview }, 107); // previews are paced by generate(), not here
  report(at(20), 108);
  assert.deepEqual(sent.map(named), ['progress 1', 'preview 6', 'progress 13', 'preview 14', 'progress 20']);
  const previewEvent = sent[1];
  assert.ok(previewEvent.event === 'preview');
  assert.deepEqual(previewEvent.progress, {
    imagesDone: 0,
    images: 1,
    batch: 1,
    evaluation: 6,
    evaluations: 20,
    step: 6,
    steps: 20,
    sigma: 2.5,
  });
  assert.equal(previewEvent.rgba, preview.rgba);
  assert.ok(!('preview' in previewEvent.progress), 'the counts carry nothing else');
});

test('at the app pace, previews every 50 ms carry the progress: the reports between them are not sent', () => {
  const sent: string[] = [];
  const report = progressEvents((event) => sent.push(event.event));
  // A 20-step batch at 8.5 ms per step: each step's evaluation is reported, then its preview when 50 ms have passed.
  let lastPreview = -Infinity;
  for (let step = 1; step <= 20; step++) {
    const now = 8.5 * step;
    report(at(step), now);
    if (now - lastPreview >= 50) {
      lastPreview = now;
      report({ ...at(step), step, steps: 20, preview }, now + 0.1);
    }
  }
  assert.deepEqual(sent, ['progress', 'preview', 'preview', 'preview', 'preview', 'progress']);
});
