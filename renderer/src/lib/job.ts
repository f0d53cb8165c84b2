// What the generate view knows about the job it started, as a pure reducer over the contract's
// events. Events can arrive before job.generate has answered with the job id, so they are held
// until the id is known; events of other clients' jobs are ignored here.
import type { ActiveJob, EventName, Events, GalleryEntry } from '../../../src-core/contract/api.ts';

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
  phase: 'idle',
  jobId: null,
  images: 0,
  progress: null,
  preview: null,
  result: null,
  error: null,
  kept: [],
  cancelling: false,
  held: [],
};

const HELD_LIMIT = 64;

/** A job, grid or sweep that was asked for and has not ended. */
export function isActive(job: { phase: JobPhase }): boolean {
  return job.phase === 'starting' || job.phase === 'running';
}

export function startJob(images: number): JobState {
  return { ...IDLE_JOB, phase: 'starting', images };
}

// A job, grid or sweep between its request and the answer with its id ('starting') holds the events
// that arrive (the last few), and replays those of its id once the id is known.
interface Holding<E> {
  phase: JobPhase;
  jobId: string | null;
  error: string | null;
  held: E[];
}

/** Keeps an event that arrived while the job's id is not known yet: the last `limit` are kept. */
export function holdEvent<S extends Holding<unknown>>(state: S, event: S['held'][number], limit: number): S {
  const held = [...state.held, event];
  return { ...state, held: held.length > limit ? held.slice(-limit) : held };
}

/** The request was answered with the job's id: running, with what arrived for that id replayed through `reduce`. */
export function acceptJob<S extends Holding<{ data: { jobId: string } }>>(
  state: S,
  jobId: string,
  reduce: (s: S, e: S['held'][number]) => S,
): S {
  if (state.phase !== 'starting') return state;
  let next: S = { ...state, phase: 'running', jobId, held: [] };
  for (const event of state.held) if (event.data.jobId === jobId) next = reduce(next, event);
  return next;
}

/** The request was refused. */
export function rejectJob<S extends Holding<unknown>>(state: S, message: string): S {
  if (state.phase !== 'starting') return state;
  return { ...state, phase: 'failed', error: message, held: [] };
}

/** job.generate answered: replay what arrived for this id in the meantime. */
export const jobAccepted = (job: JobState, jobId: string): JobState => acceptJob(job, jobId, jobEvent);

/** job.generate was rejected. */
export const jobRejected = (job: JobState, message: string): JobState => rejectJob(job, message);

export function jobEvent(job: JobState, event: JobEvent): JobState {
  if (job.phase === 'starting') return holdEvent(job, event, HELD_LIMIT);
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

/**
 * A generation running that this window did not start, or no longer follows (it was reloaded, or opened while the
 * job ran, or its connection came back): followed from now on, so its progress shows and Cancel reaches it.
 */
export function adoptJob(job: JobState, active: ActiveJob[]): JobState {
  if (isActive(job)) return job;
  const running = active.find((j) => j.kind === 'generate');
  return running ? { ...IDLE_JOB, phase: 'running', jobId: running.jobId, images: running.images } : job;
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
