// What the engine process says about its jobs, turned into the contract's events: progress and previews passed on,
// each batch's images saved to the gallery as it comes (so a cancel or a crash keeps them), a grid's cells and a
// sweep's points sent on and kept for their done events. A job whose images cannot be saved (a full disk) is reported
// failed once, with every image of it that was saved, and stopped in the engine: what it would make next could not be
// saved either.
import type { EventName, Events, GalleryEntry, GallerySource, GridCellEvent, SweepPointEvent } from '../src-core/contract/api.ts';
import type { HostEvent, HostImage } from '../src-core/host/protocol.ts';
import { GalleryError, type Gallery, type StoredEntry } from './gallery.ts';

/** The engine's last event for a job, whatever its kind. */
const JOB_ENDS = new Set<HostEvent['event']>(['done', 'failed', 'gridDone', 'sweepDone']);

export class JobEvents {
  /** Each running job's images saved so far (a generate job's come a batch at a time). */
  private saved = new Map<string, GalleryEntry[]>();
  /** A grid's cells or a sweep's points so far, for its done event. */
  private experiments = new Map<string, unknown[]>();
  /** Jobs reported failed here (a save failed): the engine's later events for them are dropped, its last one included. */
  private failedHere = new Set<string>();

  constructor(
    private readonly emit: <E extends EventName>(event: E, data: Events[E]) => void,
    private readonly gallery: Pick<Gallery, 'add'>,
    /** A stored entry as the window gets it (with its URL). */
    private readonly toEntry: (entry: StoredEntry) => GalleryEntry,
    /** Asks the engine to stop a job (it then ends it with a failed event, or has ended it already). */
    private readonly stopJob: (jobId: string) => void,
  ) {}

  onEngineEvent(event: HostEvent): void {
    if (this.failedHere.has(event.jobId)) {
      if (JOB_ENDS.has(event.event)) this.forget(event.jobId);
      return;
    }
    switch (event.event) {
      case 'progress': {
        const { event: _, ...data } = event;
        this.emit('job.progress', data);
        break;
      }
      case 'preview':
        // The engine sends a preview in place of a progress event of the same moment.
        this.emit('job.progress', { jobId: event.jobId, ...event.progress });
        this.emit('job.preview', {
          jobId: event.jobId,
          width: event.width,
          height: event.height,
          rgbaBase64: Buffer.from(event.rgba).toString('base64'),
        });
        break;
      case 'images':
        // Saved as each batch finishes, so a cancel or a crash keeps them.
        this.saveImages(event.jobId, event.images, { evaluations: event.evaluations, seconds: event.secondsPerImage, source: 'generate' });
        break;
      case 'done': {
        const entries = this.forget(event.jobId);
        const { textEncoderMs, unetMs, vaeMs, overheadMs } = event.timings;
        this.emit('job.done', {
          jobId: event.jobId,
          entries,
          evaluations: event.evaluations,
          seconds: event.timings.totalMs / 1000,
          timings: { textEncoderMs, unetMs, vaeMs, overheadMs },
          notes: event.notes,
        });
        break;
      }
      case 'failed': {
        const entries = this.forget(event.jobId);
        this.emit('job.failed', {
          jobId: event.jobId,
          error: event.error,
          cancelled: event.cancelled,
          ...(entries.length ? { entries } : {}),
        });
        break;
      }
      case 'gridCell': {
        const [entry] =
          this.saveImages(event.jobId, [event.image], { evaluations: event.evaluations, seconds: event.seconds, source: 'grid' }) ?? [];
        const { event: _, image: __, ...rest } = event;
        if (entry) this.experimentResult(event.jobId, 'grid.cell', { ...rest, entry });
        break;
      }
      case 'gridDone':
        this.emit('grid.done', { jobId: event.jobId, csv: event.csv, cells: (this.experiments.get(event.jobId) ?? []) as GridCellEvent[] });
        this.forget(event.jobId);
        break;
      case 'sweepPoint': {
        const facts = { evaluations: event.evaluations, seconds: event.secondsPerImage, source: 'sweep' as const };
        const entries = this.saveImages(event.jobId, event.images, facts);
        const { event: _, images: __, ...rest } = event;
        if (entries) this.experimentResult(event.jobId, 'sweep.point', { ...rest, entries });
        break;
      }
      case 'sweepDone':
        this.emit('sweep.done', {
          jobId: event.jobId,
          featureSpace: event.featureSpace,
          points: (this.experiments.get(event.jobId) ?? []) as SweepPointEvent[],
        });
        this.forget(event.jobId);
        break;
    }
  }

  /** A running grid's cells or sweep's points so far (a copy): for a window that comes while it runs (job.active). */
  resultsOf(jobId: string): unknown[] {
    return [...(this.experiments.get(jobId) ?? [])];
  }

  /** A grid cell or sweep point: sent on, and kept for the experiment's done event. */
  private experimentResult<E extends 'grid.cell' | 'sweep.point'>(jobId: string, name: E, result: Events[E]): void {
    const results = this.experiments.get(jobId) ?? [];
    this.experiments.set(jobId, results);
    results.push(result);
    this.emit(name, result);
  }

  /** The job ended: what was kept for it is dropped; the entries saved for it. */
  private forget(jobId: string): GalleryEntry[] {
    const entries = this.saved.get(jobId) ?? [];
    this.saved.delete(jobId);
    this.experiments.delete(jobId);
    this.failedHere.delete(jobId);
    return entries;
  }

  /**
   * Saves a job's images to the gallery and returns their entries. On failure (full disk...) the job is reported
   * failed, with every entry saved for it (this call's among them), the engine is asked to stop it, and undefined is
   * returned.
   */
  private saveImages(
    jobId: string,
    images: HostImage[],
    facts: { evaluations: number; seconds: number; source: GallerySource },
  ): GalleryEntry[] | undefined {
    const saved = this.saved.get(jobId) ?? [];
    this.saved.set(jobId, saved);
    try {
      const entries = this.gallery.add(images, facts).map((e) => this.toEntry(e));
      saved.push(...entries);
      return entries;
    } catch (error) {
      const added = error instanceof GalleryError ? error.added.map((e) => this.toEntry(e)) : [];
      const which = added.length > 0 ? `${images.length - added.length} of ${images.length} images were` : 'the images were';
      const entries = [...saved, ...added];
      this.emit('job.failed', {
        jobId,
        error: `${which} generated but could not be saved: ${(error as Error).message}`,
        cancelled: false,
        ...(entries.length ? { entries } : {}),
      });
      this.failedHere.add(jobId);
      this.stopJob(jobId);
      return undefined;
    }
  }
}
