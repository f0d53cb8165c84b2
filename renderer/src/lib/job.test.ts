import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ActiveJob } from '../../../src-core/contract/api.ts';
import { adoptJob, IDLE_JOB, isActive, jobAccepted, jobEvent, jobInterrupted, jobRejected, startJob, type JobEvent } from './job.ts';

const progress = (jobId: string, evaluation: number): JobEvent => ({
  name: 'job.progress',
  data: { jobId, imagesDone: 0, images: 2, evaluation, evaluations: 39 },
});
const done = (jobId: string): JobEvent => ({
  name: 'job.done',
  data: { jobId, entries: [], evaluations: 39, seconds: 1, timings: { textEncoderMs: 1, unetMs: 2, vaeMs: 3, overheadMs: 4 }, notes: [] },
});

test('a job runs from starting to done', () => {
  let job = startJob(2);
  assert.ok(isActive(job));
  job = jobAccepted(job, 'a');
  assert.equal(job.phase, 'running');
  job = jobEvent(job, progress('a', 5));
  assert.equal(job.progress?.evaluation, 5);
  job = jobEvent(job, { name: 'job.preview', data: { jobId: 'a', width: 1, height: 1, rgbaBase64: 'AAAA' } });
  assert.equal(job.preview?.width, 1);
  job = jobEvent(job, done('a'));
  assert.equal(job.phase, 'done');
  assert.equal(job.result?.evaluations, 39);
  assert.equal(job.preview, null);
  assert.ok(!isActive(job));
});

test('events that arrive before the job id are replayed; other jobs are ignored', () => {
  let job = startJob(1);
  job = jobEvent(job, progress('b', 3));
  job = jobEvent(job, progress('other', 9));
  job = jobAccepted(job, 'b');
  assert.equal(job.progress?.evaluation, 3);
  job = jobEvent(job, progress('other', 20));
  assert.equal(job.progress?.evaluation, 3);
  job = jobEvent(job, done('other'));
  assert.equal(job.phase, 'running');
  // a job that finished before its id was known
  let fast = jobEvent(startJob(1), done('c'));
  fast = jobAccepted(fast, 'c');
  assert.equal(fast.phase, 'done');
});

test('failures, cancels and interruptions', () => {
  const running = jobAccepted(startJob(1), 'a');
  const failed = jobEvent(running, { name: 'job.failed', data: { jobId: 'a', error: 'out of memory', cancelled: false } });
  assert.equal(failed.phase, 'failed');
  assert.equal(failed.error, 'out of memory');
  const cancelled = jobEvent(running, { name: 'job.failed', data: { jobId: 'a', error: 'cancelled', cancelled: true } });
  assert.equal(cancelled.phase, 'cancelled');
  assert.equal(cancelled.error, null);
  assert.equal(jobRejected(startJob(1), 'bad request').error, 'bad request');
  assert.equal(jobInterrupted(running, 'lost').phase, 'failed');
  assert.equal(jobInterrupted(IDLE_JOB, 'lost'), IDLE_JOB);
  assert.equal(jobAccepted(IDLE_JOB, 'x'), IDLE_JOB);
});

test('a window follows a generation it did not start (reloaded mid-job), unless it follows one of its own', () => {
  const grid = { jobId: 'g1', kind: 'grid', request: {}, total: 4, cells: [] } as unknown as ActiveJob;
  const active: ActiveJob[] = [grid, { jobId: 'j1', kind: 'generate', images: 40 }];
  const adopted = adoptJob(IDLE_JOB, active);
  assert.equal(adopted.phase, 'running');
  assert.equal(adopted.jobId, 'j1', 'the generation, not the grid');
  assert.equal(adopted.images, 40);
  assert.equal(jobEvent(adopted, progress('j1', 5)).progress?.evaluation, 5, 'its events are followed');
  const own = jobAccepted(startJob(2), 'mine');
  assert.equal(adoptJob(own, active), own, 'its own running job stays');
  assert.equal(adoptJob(IDLE_JOB, [grid]), IDLE_JOB, 'nothing to follow');
});
