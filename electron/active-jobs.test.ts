import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ActiveJob, GridCellEvent, SweepPointEvent } from '../src-core/contract/api.ts';
import type { GridRequest, SweepRequest } from '../src-core/contract/experiments.ts';
import { ActiveJobs } from './active-jobs.ts';

const grid = (jobId: string): ActiveJob => ({ jobId, kind: 'grid', request: {} as GridRequest, total: 4, cells: [] });
const sweep = (jobId: string): ActiveJob => ({ jobId, kind: 'sweep', request: {} as SweepRequest, total: 2, points: [] });

test('a job is active from before the engine is asked until its last event, whatever its kind; a stopped engine ends all', () => {
  const jobs = new ActiveJobs();
  jobs.add({ jobId: 'a', kind: 'generate', images: 3 });
  jobs.add(grid('b'));
  jobs.add(sweep('c'));
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

test("a grid's cells and a sweep's points so far are kept with it, each for its own job, and a listing does not change after", () => {
  const jobs = new ActiveJobs();
  jobs.add(grid('g'));
  jobs.add(sweep('s'));
  const cell = (jobId: string, x: number) => ({ jobId, x, y: 0 }) as unknown as GridCellEvent;
  jobs.onEvent('grid.cell', cell('g', 0));
  jobs.onEvent('grid.cell', cell('other', 1));
  jobs.onEvent('sweep.point', { jobId: 's', cfgScale: 3 } as unknown as SweepPointEvent);
  const listed = jobs.list();
  jobs.onEvent('grid.cell', cell('g', 1));
  const [g, s] = listed;
  assert.ok(g.kind === 'grid' && s.kind === 'sweep');
  assert.deepEqual(
    g.cells.map((c) => c.x),
    [0],
    'the listing was taken before the second cell',
  );
  assert.equal(s.points.length, 1);
  const [now] = jobs.list();
  assert.ok(now.kind === 'grid' && now.cells.length === 2);
});
