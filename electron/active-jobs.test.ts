import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ActiveJobs } from './active-jobs.ts';

test('a job is active from before the engine is asked until its last event, whatever its kind; a stopped engine ends all', () => {
  const jobs = new ActiveJobs();
  jobs.add({ jobId: 'a', kind: 'generate', images: 3 });
  jobs.add({ jobId: 'b', kind: 'grid' });
  jobs.add({ jobId: 'c', kind: 'sweep' });
  jobs.onEvent('job.progress', { jobId: 'a' });
  assert.deepEqual(
    jobs.list().map((j) => j.jobId),
    ['a', 'b', 'c'],
  );
  jobs.onEvent('job.done', { jobId: 'a' });
  jobs.onEvent('grid.done', { jobId: 'b' });
  assert.deepEqual(
    jobs.list().map((j) => j.jobId),
    ['c'],
  );
  jobs.onEvent('job.failed', { jobId: 'c' }); // a sweep fails with the job events
  assert.deepEqual(jobs.list(), []);
  jobs.add({ jobId: 'd', kind: 'generate', images: 1 });
  jobs.drop('d'); // the engine refused it
  jobs.add({ jobId: 'e', kind: 'generate', images: 1 });
  jobs.onEvent('engine.status', { state: 'ready' });
  assert.equal(jobs.list().length, 1);
  jobs.onEvent('engine.status', { state: 'crashed' });
  assert.deepEqual(jobs.list(), []);
});
