import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { GridRequest, SweepRequest } from '../src-core/contract/experiments.ts';
import { ActiveJobs, type TrackedJob } from './active-jobs.ts';

const grid = (jobId: string): TrackedJob => ({ jobId, kind: 'grid', request: {} as GridRequest, total: 4 });
const sweep = (jobId: string): TrackedJob => ({ jobId, kind: 'sweep', request: {} as SweepRequest, total: 2 });
const none = () => [];

test('a job is active from before the engine is asked until its last event, whatever its kind; a stopped engine ends all', () => {
  const jobs = new ActiveJobs();
  jobs.add({ jobId: 'a', kind: 'generate', images: 3 });
  jobs.add(grid('b'));
  jobs.add(sweep('c'));
  jobs.onEvent('job.progress', { jobId: 'a' });
  assert.deepEqual(
    jobs.list(none).map((j) => j.jobId),
    ['a', 'b', 'c'],
  );
  jobs.onEvent('job.done', { jobId: 'a' });
  jobs.onEvent('grid.done', { jobId: 'b' });
  assert.deepEqual(
    jobs.list(none).map((j) => j.jobId),
    ['c'],
  );
  jobs.onEvent('job.failed', { jobId: 'c' }); // a sweep fails with the job events
  assert.deepEqual(jobs.list(none), []);
  jobs.add({ jobId: 'd', kind: 'generate', images: 1 });
  jobs.drop('d'); // the engine refused it
  jobs.add({ jobId: 'e', kind: 'generate', images: 1 });
  jobs.onEvent('engine.status', { state: 'ready' });
  assert.equal(jobs.list(none).length, 1);
  jobs.onEvent('engine.status', { state: 'crashed' });
  assert.deepEqual(jobs.list(none), []);
});

test('a grid or sweep is listed with the results it has sent, each asked for by its own job id', () => {
  const jobs = new ActiveJobs();
  jobs.add(grid('g'));
  jobs.add(sweep('s'));
  jobs.add({ jobId: 'j', kind: 'generate', images: 2 });
  const results: Record<string, unknown[]> = {
    g: [{ jobId: 'g', x: 0 }],
    s: [
      { jobId: 's', cfgScale: 3 },
      { jobId: 's', cfgScale: 5 },
    ],
  };
  const [g, s, j] = jobs.list((jobId) => results[jobId] ?? []);
  assert.ok(g.kind === 'grid' && s.kind === 'sweep' && j.kind === 'generate');
  assert.deepEqual(g.cells, results.g);
  assert.deepEqual(s.points, results.s);
  assert.equal(j.images, 2);
});
