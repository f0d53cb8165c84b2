// What the generate view knows about the job it started, as a pure reducer over the contract's
// events. Events can arrive before job.generate has answered with the job id, so they are held
// until the id is known; events of other clients' jobs are ignored here.
import type { EventName, Events, GalleryEntry } from '../../../src-core/contract/api.ts';

export type JobPhase = 'idle' | 'starting' | 'running' | 'done' | 'failed' | 'cancelled';
export type JobEventName = Extract<EventName, 'job.progress' | 'job.preview' | 'job.done' | 'job.failed'>;
export type JobEvent = { [E in JobEventName]: { name: E; data: Events[E] } }[JobEventName];

export interface JobState {
  phase: JobPhase;
  jobId: string | null;
  /** What the user asked for, to show "image 1 of n" before the first progress event. */
  images: number;
  progress: Events['job.progress'] | null;
  preview: Events['job.preview'] | null;
  result: Events['job.done'] | null;
  error: string | null;
  /** Images the job finished before it was cancelled or failed (they are in the gallery). */
  kept: GalleryEntry[];
  /** Cancel was pressed: said at once, before the engine answers. */
  cancelling: boolean;
  /** Events seen while the job id was not known yet. */
  held: JobEvent[];
}

export const IDLE_JOB: JobState = {
  phase: 'idle', jobId: null, images: 0, progress: null, preview: null, result: null, error: null, kept: [], cancelling: false, held: [],
};

const HELD_LIMIT = 64;

/** A job, grid or sweep that was asked for and has not ended. */
export function isActive(job: { phase: JobPhase }): boolean {
  return job.phase === 'starting' || job.phase === 'running';
}

export function startJob(images: number): JobState {
  return { ...IDLE_JOB, phase: 'starting', images };
}

/** job.generate answered: replay what arrived for this id in the meantime. */
export function jobAccepted(job: JobState, jobId: string): JobState {
  if (job.phase !== 'starting') return job;
  let next: JobState = { ...job, phase: 'running', jobId, held: [] };
  for (const event of job.held) if (event.data.jobId === jobId) next = jobEvent(next, event);
  return next;
}

/** job.generate was rejected. */
export function jobRejected(job: JobState, message: string): JobState {
  if (job.phase !== 'starting') return job;
  return { ...job, phase: 'failed', error: message, held: [] };
}

export function jobEvent(job: JobState, event: JobEvent): JobState {
  if (job.phase === 'starting') {
    const held = [...job.held, event];
    return { ...job, held: held.length > HELD_LIMIT ? held.slice(-HELD_LIMIT) : held };
  }
  if (job.phase !== 'running' || event.data.jobId !== job.jobId) return job;
  switch (event.name) {
    case 'job.progress':
      return { ...job, progress: event.data, images: event.data.images };
    case 'job.preview':
      return { ...job, preview: event.data };
    case 'job.done':
      return { ...job, phase: 'done', result: event.data, preview: null };
    case 'job.failed': {
      const kept = event.data.entries ?? [];
      return event.data.cancelled
        ? { ...job, phase: 'cancelled', error: null, preview: null, kept, cancelling: false }
        : { ...job, phase: 'failed', error: event.data.error, preview: null, kept, cancelling: false };
    }
  }
}

/** Cancel was pressed: shown at once ("Cancelling…"), whatever the engine is busy with. */
export function jobCancelling(job: JobState): JobState {
  return isActive(job) && !job.cancelling ? { ...job, cancelling: true } : job;
}

/** "Cancelled after 1 of 3" when images were finished, "Cancelled." when none were. */
export function cancelledText(job: JobState): string {
  return job.kept.length ? `Cancelled after ${job.kept.length} of ${job.images}.` : 'Cancelled.';
}

/** The connection dropped or the engine crashed: a running job will send nothing more. */
export function jobInterrupted(job: JobState, message: string): JobState {
  if (!isActive(job)) return job;
  return { ...job, phase: 'failed', error: message, preview: null, held: [] };
}
