// The engine's job events as the window gets them, with a real gallery in a temporary folder: a preview brings its
// progress, batches are saved as they come, and a batch that cannot be saved (a full disk) fails the job once, with
// what was saved, and no done event follows.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encode } from 'fast-png';
import type { EventName } from '../src-core/contract/api.ts';
import type { HostImage } from '../src-core/host/protocol.ts';
import { Gallery } from './gallery.ts';
import { JobEvents } from './job-events.ts';

function setUp() {
  // How many more PNGs the disk takes (its index still fits); a write that makes no progress is a full disk (writeAll).
  let room = Infinity;
  const isPng = (data: Uint8Array) => data[0] === 0x89 && data[1] === 0x50;
  const gallery = new Gallery(mkdtempSync(join(tmpdir(), 'job-events-')), {
    writeSync: (fd, data, offset, length) => (isPng(data) && room-- <= 0 ? 0 : writeSync(fd, data, offset, length)),
  });
  const events: Array<{ name: EventName; data: Record<string, unknown> }> = [];
  const stopped: string[] = [];
  const jobs = new JobEvents(
    (name, data) => events.push({ name, data: data as Record<string, unknown> }),
    gallery,
    (e) => ({ ...e, url: `/gallery/${e.id}` }),
    (jobId) => stopped.push(jobId),
  );
  return { gallery, events, jobs, stopped, fillDisk: (roomForImages = 0) => (room = roomForImages), freeDisk: () => (room = Infinity) };
}

const image = (index: number): HostImage => ({
  index,
  seed: 10 + index,
  width: 2,
  height: 2,
  parameters: `p\nSteps: 1, Seed: ${10 + index}`,
  png: encode({ width: 2, height: 2, data: new Uint8Array(16).fill(index * 40), channels: 4 }),
});
const timings = { totalMs: 10, textEncoderMs: 1, unetMs: 5, vaeMs: 2, overheadMs: 2 };
/** Cell x of grid 'g', one row of `total` cells. */
const gridCell = (x: number, total: number) => ({
  event: 'gridCell' as const,
  jobId: 'g',
  x,
  y: 0,
  xLabel: `x${x}`,
  yLabel: 'y',
  image: image(x),
  evaluations: 20,
  seconds: 0.5,
  done: x + 1,
  total,
});

test('a preview comes to the window as its progress, then the image', () => {
  const { events, jobs } = setUp();
  const progress = { imagesDone: 0, images: 2, evaluation: 6, evaluations: 20, step: 6, steps: 20, sigma: 3.5 };
  jobs.onEngineEvent({ event: 'preview', jobId: 'j', width: 2, height: 1, rgba: Uint8Array.of(1, 2, 3, 255, 4, 5, 6, 255), progress });
  assert.deepEqual(
    events.map((e) => e.name),
    ['job.progress', 'job.preview'],
  );
  assert.deepEqual(events[0].data, { jobId: 'j', ...progress });
  assert.deepEqual(events[1].data, {
    jobId: 'j',
    width: 2,
    height: 1,
    rgbaBase64: Buffer.from([1, 2, 3, 255, 4, 5, 6, 255]).toString('base64'),
  });
});

test('batches are saved as they come and the done event lists them all', () => {
  const { gallery, events, jobs } = setUp();
  jobs.onEngineEvent({ event: 'images', jobId: 'j', images: [image(0)], evaluations: 20, secondsPerImage: 0.5 });
  assert.equal(gallery.list().length, 1, 'saved before the job ends');
  jobs.onEngineEvent({ event: 'images', jobId: 'j', images: [image(1)], evaluations: 20, secondsPerImage: 0.5 });
  jobs.onEngineEvent({ event: 'done', jobId: 'j', evaluations: 20, notes: [], timings });
  const done = events.find((e) => e.name === 'job.done')!;
  assert.deepEqual(
    (done.data.entries as Array<{ seed: number }>).map((e) => e.seed),
    [10, 11],
  );
});

test('a batch the full disk refuses fails the job once, listing the batches saved before it, and stops it', () => {
  const { gallery, events, jobs, stopped, fillDisk } = setUp();
  jobs.onEngineEvent({ event: 'images', jobId: 'j', images: [image(0)], evaluations: 20, secondsPerImage: 0.5 });
  fillDisk();
  jobs.onEngineEvent({ event: 'images', jobId: 'j', images: [image(1)], evaluations: 20, secondsPerImage: 0.5 });
  jobs.onEngineEvent({ event: 'images', jobId: 'j', images: [image(2)], evaluations: 20, secondsPerImage: 0.5 });
  jobs.onEngineEvent({ event: 'done', jobId: 'j', evaluations: 20, notes: [], timings });
  assert.deepEqual(
    events.map((e) => e.name),
    ['job.failed'],
  );
  assert.match(String(events[0].data.error), /^the images were generated but could not be saved: .*disk is full/);
  assert.deepEqual(
    (events[0].data.entries as Array<{ seed: number; url: string }>).map((e) => [e.seed, e.url.startsWith('/gallery/')]),
    [[10, true]],
    'the failure lists the batch saved before it',
  );
  assert.deepEqual(
    gallery.list().map((e) => e.seed),
    [10],
    'the first batch stays in the gallery',
  );
  assert.deepEqual(stopped, ['j'], 'the engine is asked once to stop the job');
});

test("after a failed save, the engine's later events for the job are dropped, its end included; the next job is heard", () => {
  const { events, jobs, stopped, fillDisk, freeDisk } = setUp();
  fillDisk();
  jobs.onEngineEvent({ event: 'images', jobId: 'j', images: [image(0)], evaluations: 20, secondsPerImage: 0.5 });
  // What the engine sent before the stop reached it, then its answer to the stop.
  jobs.onEngineEvent({ event: 'progress', jobId: 'j', imagesDone: 1, images: 3, evaluation: 2, evaluations: 20 });
  jobs.onEngineEvent({ event: 'images', jobId: 'j', images: [image(1)], evaluations: 20, secondsPerImage: 0.5 });
  jobs.onEngineEvent({ event: 'failed', jobId: 'j', error: 'generation cancelled', cancelled: true });
  freeDisk();
  jobs.onEngineEvent({ event: 'images', jobId: 'k', images: [image(2)], evaluations: 20, secondsPerImage: 0.5 });
  jobs.onEngineEvent({ event: 'done', jobId: 'k', evaluations: 20, notes: [], timings });
  assert.deepEqual(
    events.map((e) => `${e.name} ${String(e.data.jobId)}`),
    ['job.failed j', 'job.done k'],
  );
  assert.deepEqual(stopped, ['j']);
});

test('a grid cell the full disk refuses fails and stops the grid: no more cells, and no done event', () => {
  const { events, jobs, stopped, fillDisk } = setUp();
  const cell = (x: number) => gridCell(x, 3);
  jobs.onEngineEvent(cell(0));
  fillDisk();
  jobs.onEngineEvent(cell(1));
  jobs.onEngineEvent(cell(2));
  jobs.onEngineEvent({ event: 'gridDone', jobId: 'g', csv: 'x,y' });
  assert.deepEqual(
    events.map((e) => e.name),
    ['grid.cell', 'job.failed'],
  );
  assert.deepEqual(
    (events[1].data.entries as Array<{ seed: number }>).map((e) => e.seed),
    [10],
    'the saved cell is listed',
  );
  assert.deepEqual(stopped, ['g']);
});

test('a batch that the disk takes in part: the failure says how many were lost and lists every image saved', () => {
  const { gallery, events, jobs, fillDisk } = setUp();
  jobs.onEngineEvent({ event: 'images', jobId: 'j', images: [image(0)], evaluations: 20, secondsPerImage: 0.5 });
  fillDisk(1);
  jobs.onEngineEvent({ event: 'images', jobId: 'j', images: [image(1), image(2)], evaluations: 20, secondsPerImage: 0.5 });
  assert.deepEqual(
    events.map((e) => e.name),
    ['job.failed'],
  );
  assert.match(String(events[0].data.error), /^1 of 2 images were generated but could not be saved/);
  assert.deepEqual(
    (events[0].data.entries as Array<{ seed: number }>).map((e) => e.seed),
    [10, 11],
  );
  assert.deepEqual(
    gallery
      .list()
      .map((e) => e.seed)
      .sort(),
    [10, 11],
  );
});

test("a running grid's cells so far are listed for a window that comes late, as a copy; none once it is done", () => {
  const { jobs } = setUp();
  const cell = (x: number) => gridCell(x, 2);
  jobs.onEngineEvent(cell(0));
  const listed = jobs.resultsOf('g');
  jobs.onEngineEvent(cell(1));
  assert.deepEqual(
    listed.map((c) => (c as { x: number }).x),
    [0],
    'taken before the second cell, and not changed by it',
  );
  assert.equal(jobs.resultsOf('g').length, 2);
  assert.deepEqual(jobs.resultsOf('other'), []);
  jobs.onEngineEvent({ event: 'gridDone', jobId: 'g', csv: 'x,y' });
  assert.deepEqual(jobs.resultsOf('g'), []);
});
