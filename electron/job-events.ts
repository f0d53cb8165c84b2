// What the engine process says about its jobs, turned into the contract's events: progress and previews passed on,
// each batch's images saved to the gallery as it comes (so a cancel or a crash keeps them), a grid's cells and a
// sweep's points sent on and kept for their done events.
import type { EventName, Events, GalleryEntry, GallerySource, GridCellEvent, SweepPointEvent } from '../src-core/contract/api.ts';
import type { HostEvent, HostImage } from '../src-core/host/protocol.ts';
import { GalleryError, type Gallery, type StoredEntry } from './gallery.ts';

export class JobEvents {
  constructor(
    private readonly emit: <E extends EventName>(event: E, data: Events[E]) => void,
    private readonly gallery: Pick<Gallery, 'add'>,
    /** A stored entry as the window gets it (with its URL). */
    private readonly toEntry: (entry: StoredEntry) => GalleryEntry,
  ) {}

  onEngineEvent(event: HostEvent): void {
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
      case 'images': {
        // Saved as each batch finishes, so a cancel or a crash keeps them.
        const job = this.generated.get(event.jobId) ?? { entries: [], saveFailed: false };
        this.generated.set(event.jobId, job);
        if (job.saveFailed) break;
        const facts = { evaluations: event.evaluations, seconds: event.secondsPerImage, source: 'generate' as const };
        const entries = this.saveImages(event.jobId, event.images, facts, job.entries);
        if (entries) job.entries.push(...entries);
        else job.saveFailed = true;
        break;
      }
      case 'done': {
        const job = this.generated.get(event.jobId);
        this.generated.delete(event.jobId);
        if (job?.saveFailed) break; // already reported as failed
        const { textEncoderMs, unetMs, vaeMs, overheadMs } = event.timings;
        this.emit('job.done', {
          jobId: event.jobId,
          entries: job?.entries ?? [],
          evaluations: event.evaluations,
          seconds: event.timings.totalMs / 1000,
          timings: { textEncoderMs, unetMs, vaeMs, overheadMs },
          notes: event.notes,
        });
        break;
      }
      case 'failed': {
        this.experiments.delete(event.jobId);
        const job = this.generated.get(event.jobId);
        this.generated.delete(event.jobId);
        if (job?.saveFailed) break;
        this.emit('job.failed', {
          jobId: event.jobId,
          error: event.error,
          cancelled: event.cancelled,
          ...(job?.entries.length ? { entries: job.entries } : {}),
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
        this.emit('grid.done', { jobId: event.jobId, csv: event.csv, cells: this.experimentEnded(event.jobId) as GridCellEvent[] });
        break;
      case 'sweepPoint': {
        const facts = { evaluations: event.evaluations, seconds: event.secondsPerImage, source: 'sweep' as const };
        const entries = this.saveImages(event.jobId, event.images, facts) ?? [];
        const { event: _, images: __, ...rest } = event;
        this.experimentResult(event.jobId, 'sweep.point', { ...rest, entries });
        break;
      }
      case 'sweepDone':
        this.emit('sweep.done', {
          jobId: event.jobId,
          featureSpace: event.featureSpace,
          points: this.experimentEnded(event.jobId) as SweepPointEvent[],
        });
        break;
    }
  }

  private experiments = new Map<string, unknown[]>();
  /** A generate job's images saved so far (they come a batch at a time); saveFailed once a save failed and was reported. */
  private generated = new Map<string, { entries: GalleryEntry[]; saveFailed: boolean }>();

  private experimentResults(jobId: string): unknown[] {
    let list = this.experiments.get(jobId);
    if (!list) this.experiments.set(jobId, (list = []));
    return list;
  }

  /** A grid cell or sweep point: sent on, and kept for the experiment's done event. */
  private experimentResult<E extends 'grid.cell' | 'sweep.point'>(jobId: string, name: E, result: Events[E]): void {
    this.experimentResults(jobId).push(result);
    this.emit(name, result);
  }

  /** The experiment ended: its results, for the done event, and nothing kept. */
  private experimentEnded(jobId: string): unknown[] {
    const results = this.experimentResults(jobId);
    this.experiments.delete(jobId);
    return results;
  }

  /**
   * Saves a job's images to the gallery; on failure (full disk...) the job is reported failed, with the entries saved
   * before (`savedBefore`, the job's earlier batches) and those of this call, and undefined is returned.
   */
  private saveImages(
    jobId: string,
    images: HostImage[],
    facts: { evaluations: number; seconds: number; source: GallerySource },
    savedBefore: GalleryEntry[] = [],
  ): GalleryEntry[] | undefined {
    try {
      return this.gallery.add(images, facts).map((e) => this.toEntry(e));
    } catch (error) {
      const added = error instanceof GalleryError ? error.added.map((e) => this.toEntry(e)) : [];
      const which = added.length > 0 ? `${images.length - added.length} of ${images.length} images were` : 'the images were';
      const entries = [...savedBefore, ...added];
      this.emit('job.failed', {
        jobId,
        error: `${which} generated but could not be saved: ${(error as Error).message}`,
        cancelled: false,
        ...(entries.length ? { entries } : {}),
      });
      return undefined;
    }
  }
}
