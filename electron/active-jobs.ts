// The jobs the engine has accepted and not ended. Events go only to the windows open when they happen, so a window
// opened or reloaded while a job runs asks for these (job.active) to show that job and to be able to cancel it.
import type { ActiveJob, EventName, Events, GridCellEvent, SweepPointEvent } from '../src-core/contract/api.ts';

/** The last event of a job, whatever its kind (grids and sweeps fail with job.failed too). */
const ENDS = new Set<EventName>(['job.done', 'job.failed', 'grid.done', 'sweep.done']);

/** What is kept of a job here: a grid's cells and a sweep's points so far are the job events' (job-events.ts). */
export type TrackedJob =
  | Extract<ActiveJob, { kind: 'generate' }>
  | Omit<Extract<ActiveJob, { kind: 'grid' }>, 'cells'>
  | Omit<Extract<ActiveJob, { kind: 'sweep' }>, 'points'>;

export class ActiveJobs {
  private jobs = new Map<string, TrackedJob>();

  /** Called before the engine is asked, so that an end event can never come before its job is known. */
  add(job: TrackedJob): void {
    this.jobs.set(job.jobId, job);
  }

  /** The engine refused the job. */
  drop(jobId: string): void {
    this.jobs.delete(jobId);
  }

  /** Follows the events the service sends: a job's last one ends it; an engine that stopped ended them all. */
  onEvent(event: EventName, data: unknown): void {
    if (ENDS.has(event)) this.jobs.delete((data as { jobId: string }).jobId);
    else if (event === 'engine.status' && (data as Events['engine.status']).state !== 'ready') this.jobs.clear();
  }

  /** The jobs, a grid or sweep with the results it has sent so far (`resultsOf`: a copy, as a reply carries it). */
  list(resultsOf: (jobId: string) => unknown[]): ActiveJob[] {
    return [...this.jobs.values()].map((job) => {
      if (job.kind === 'grid') return { ...job, cells: resultsOf(job.jobId) as GridCellEvent[] };
      if (job.kind === 'sweep') return { ...job, points: resultsOf(job.jobId) as SweepPointEvent[] };
      return { ...job };
    });
  }
}
