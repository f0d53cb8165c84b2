// The jobs the engine has accepted and not ended. Events go only to the windows open when they happen, so a window
// opened or reloaded while a job runs asks for these (job.active) to show that job and to be able to cancel it.
import type { ActiveJob, EventName, Events, GridCellEvent, SweepPointEvent } from '../src-core/contract/api.ts';

/** The last event of a job, whatever its kind (grids and sweeps fail with job.failed too). */
const ENDS = new Set<EventName>(['job.done', 'job.failed', 'grid.done', 'sweep.done']);

export class ActiveJobs {
  private jobs = new Map<string, ActiveJob>();

  /** Called before the engine is asked, so that an end event can never come before its job is known. */
  add(job: ActiveJob): void {
    this.jobs.set(job.jobId, job);
  }

  /** The engine refused the job. */
  drop(jobId: string): void {
    this.jobs.delete(jobId);
  }

  /**
   * Follows the events the service sends: a grid's cells and a sweep's points are kept (a window that adopts the job
   * shows those sent before it came), a job's last event ends it, and an engine that stopped ended them all.
   */
  onEvent(event: EventName, data: unknown): void {
    if (ENDS.has(event)) this.jobs.delete((data as { jobId: string }).jobId);
    else if (event === 'engine.status' && (data as Events['engine.status']).state !== 'ready') this.jobs.clear();
    else if (event === 'grid.cell' || event === 'sweep.point') {
      const job = this.jobs.get((data as { jobId: string }).jobId);
      if (job?.kind === 'grid' && event === 'grid.cell') job.cells.push(data as GridCellEvent);
      if (job?.kind === 'sweep' && event === 'sweep.point') job.points.push(data as SweepPointEvent);
    }
  }

  /** Copies: what a reply carries must not change as the job goes on. */
  list(): ActiveJob[] {
    return [...this.jobs.values()].map((job) =>
      job.kind === 'grid' ? { ...job, cells: [...job.cells] } : job.kind === 'sweep' ? { ...job, points: [...job.points] } : { ...job },
    );
  }
}
