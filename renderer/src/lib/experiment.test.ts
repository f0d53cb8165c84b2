import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { GridCellEvent } from '../../../src-core/contract/api.ts';
import {
  experimentAccepted,
  experimentActive,
  experimentAdopted,
  experimentEvent,
  experimentFraction,
  experimentInterrupted,
  experimentRejected,
  idleExperiment,
  startExperiment,
  withinText,
  type ExperimentEvent,
} from './experiment.ts';

type Item = { jobId: string; n: number };
type Done = { jobId: string; items: Item[] };
type Event = ExperimentEvent<Item, Done>;

const progress = (jobId: string, evaluation: number, imagesDone = 0, images = 1): Event => ({
  name: 'job.progress',
  data: { jobId, imagesDone, images, evaluation, evaluations: 10 },
});
const item = (jobId: string, n: number): Event => ({ name: 'item', data: { jobId, n } });
/** The done event of job `jobId`, carrying items 1..count. */
const done = (jobId: string, count: number): Event => ({
  name: 'done',
  data: { jobId, items: [] },
  items: Array.from({ length: count }, (_, i) => ({ jobId, n: i + 1 })),
});

test('a grid or sweep runs from starting through items to done', () => {
  let s = startExperiment<string, Item, Done>('request', 3);
  assert.ok(experimentActive(s));
  assert.equal(s.request, 'request');
  s = experimentAccepted(s, 'g');
  assert.equal(s.phase, 'running');
  s = experimentEvent(s, progress('g', 5));
  assert.equal(experimentFraction(s), 5 / 10 / 3);
  s = experimentEvent(s, { name: 'job.preview', data: { jobId: 'g', width: 1, height: 1, rgbaBase64: 'AAAA' } });
  assert.ok(s.preview);
  s = experimentEvent(s, item('g', 1));
  assert.equal(s.items.length, 1);
  assert.equal(s.progress, null, 'progress restarts with the next item');
  assert.equal(s.preview, null);
  assert.equal(experimentFraction(s), 1 / 3);
  s = experimentEvent(s, item('g', 2));
  s = experimentEvent(s, item('g', 3));
  s = experimentEvent(s, done('g', 3));
  assert.equal(s.phase, 'done');
  assert.equal(s.items.length, 3);
  assert.equal(experimentFraction(s), 1);
  assert.ok(!experimentActive(s));
});

test('events before the job id are held and replayed; other jobs are ignored', () => {
  let s = startExperiment<string, Item, Done>('r', 2);
  s = experimentEvent(s, item('other', 9));
  s = experimentEvent(s, item('g', 1));
  s = experimentEvent(s, progress('g', 3));
  s = experimentAccepted(s, 'g');
  assert.deepEqual(
    s.items.map((i) => i.n),
    [1],
  );
  assert.equal(s.progress?.evaluation, 3);
  s = experimentEvent(s, item('other', 8));
  assert.equal(s.items.length, 1);
});

test('the done event is authoritative when items were missed', () => {
  let s = experimentAccepted(startExperiment<string, Item, Done>('r', 2), 'g');
  s = experimentEvent(s, item('g', 1));
  s = experimentEvent(s, done('g', 2));
  assert.deepEqual(
    s.items.map((i) => i.n),
    [1, 2],
  );
});

test('failed, cancelled, rejected and interrupted jobs', () => {
  const running = experimentAccepted(startExperiment<string, Item, Done>('r', 2), 'g');
  const failed = experimentEvent(running, { name: 'job.failed', data: { jobId: 'g', error: 'boom', cancelled: false } });
  assert.equal(failed.phase, 'failed');
  assert.equal(failed.error, 'boom');
  const cancelled = experimentEvent(experimentEvent(running, item('g', 1)), {
    name: 'job.failed',
    data: { jobId: 'g', error: 'cancelled', cancelled: true },
  });
  assert.equal(cancelled.phase, 'cancelled');
  assert.equal(cancelled.items.length, 1, 'finished items stay');
  assert.equal(experimentRejected(startExperiment('r', 1), 'Could not run the grid: no').error, 'Could not run the grid: no');
  assert.equal(experimentRejected(running, 'late').phase, 'running');
  assert.equal(experimentInterrupted(running, 'lost').phase, 'failed');
  const idle = idleExperiment<string, Item, Done>();
  assert.equal(experimentInterrupted(idle, 'lost'), idle);
  assert.equal(experimentEvent(idle, item('g', 1)), idle);
});

test('progress text within an item', () => {
  assert.equal(withinText(null), null);
  assert.equal(withinText({ jobId: 'g', imagesDone: 0, images: 1, evaluation: 4, evaluations: 21 }), 'evaluation 4 / 21');
  assert.equal(withinText({ jobId: 'g', imagesDone: 2, images: 6, evaluation: 4, evaluations: 21 }), 'image 3 of 6 · evaluation 4 / 21');
});

test('grid cells fit the generic item shape', () => {
  const cell = { jobId: 'g' } as GridCellEvent;
  const s = experimentEvent(experimentAccepted(startExperiment<null, GridCellEvent, { jobId: string }>(null, 1), 'g'), {
    name: 'item',
    data: cell,
  });
  assert.equal(s.items[0], cell);
});

test('a window follows a grid it did not start, from the items sent before it came; its own running grid stays', () => {
  const adopted = experimentAdopted(idleExperiment<string, Item, Done>(), {
    jobId: 'g',
    request: 'the request',
    total: 4,
    items: [{ jobId: 'g', n: 1 }],
  });
  assert.equal(adopted.phase, 'running');
  assert.equal(adopted.request, 'the request');
  assert.equal(experimentFraction(adopted), 0.25);
  const next = experimentEvent(adopted, item('g', 2));
  assert.deepEqual(
    next.items.map((i) => i.n),
    [1, 2],
  );
  const own = experimentAccepted(startExperiment<string, Item, Done>('mine', 2), 'mine');
  assert.equal(experimentAdopted(own, { jobId: 'g', request: 'other', total: 4, items: [] }), own);
});
