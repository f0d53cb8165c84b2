// What the Compare and Explore views know about the grid or sweep they queued, as a pure reducer
// like job.ts: results ("items": grid cells, sweep points) arrive one by one, progress and previews
// arrive as job.progress / job.preview with the same job id, and the job ends with a done event
// or job.failed. Events that arrive before job.grid / job.sweep answered are held and replayed.
import type { Events } from '../../../src-core/contract/api.ts';
import { imagesInFlight, progressFraction } from './format.ts';
import { acceptJob, holdEvent, isActive, rejectJob, type JobPhase } from './job.ts';

export type Progress = Events['job.progress'];
export type Preview = Events['job.preview'];

export type ExperimentEvent<Item extends { jobId: string }, Done extends { jobId: string }> =
  | { name: 'job.progress'; data: Progress }
  | { name: 'job.preview'; data: Preview }
  | { name: 'job.failed'; data: Events['job.failed'] }
  | { name: 'item'; data: Item }
  | { name: 'done'; data: Done; items: Item[] };

export interface ExperimentState<Request, Item extends { jobId: string }, Done extends { jobId: string }> {
  phase: JobPhase;
  jobId: string | null;
  /** What was queued (the table and plot are laid out from it before results arrive). */
  request: Request | null;
  /** Results expected in all. */
  total: number;
  items: Item[];
  /** Progress of the item being made now (cleared when an item arrives). */
  progress: Progress | null;
  preview: Preview | null;
  done: Done | null;
  error: string | null;
  held: Array<ExperimentEvent<Item, Done>>;
}

const HELD_LIMIT = 256;

export function idleExperiment<R, I extends { jobId: string }, D extends { jobId: string }>(): ExperimentState<R, I, D> {
  return {
    phase: 'idle',
    jobId: null,
    request: null,
    total: 0,
    items: [],
    progress: null,
    preview: null,
    done: null,
    error: null,
    held: [],
  };
}

/** The same test as a generate job's. */
export const experimentActive = isActive;

export function startExperiment<R, I extends { jobId: string }, D extends { jobId: string }>(
  request: R,
  total: number,
): ExperimentState<R, I, D> {
  return { ...idleExperiment<R, I, D>(), phase: 'starting', request, total };
}

/**
 * A grid or sweep running that this window did not start (it was reloaded, or opened while the job ran): followed
 * from now on, with the results sent before. The window's own running job stays.
 */
export function experimentAdopted<R, I extends { jobId: string }, D extends { jobId: string }>(
  state: ExperimentState<R, I, D>,
  job: { jobId: string; request: R; total: number; items: I[] },
): ExperimentState<R, I, D> {
  if (experimentActive(state)) return state;
  return { ...idleExperiment<R, I, D>(), phase: 'running', jobId: job.jobId, request: job.request, total: job.total, items: job.items };
}

/** The job was queued: replay what arrived for its id in the meantime. */
export function experimentAccepted<R, I extends { jobId: string }, D extends { jobId: string }>(
  state: ExperimentState<R, I, D>,
  jobId: string,
): ExperimentState<R, I, D> {
  return acceptJob(state, jobId, experimentEvent);
}

export function experimentRejected<R, I extends { jobId: string }, D extends { jobId: string }>(
  state: ExperimentState<R, I, D>,
  message: string,
): ExperimentState<R, I, D> {
  return rejectJob(state, message);
}

export function experimentEvent<R, I extends { jobId: string }, D extends { jobId: string }>(
  state: ExperimentState<R, I, D>,
  event: ExperimentEvent<I, D>,
): ExperimentState<R, I, D> {
  if (state.phase === 'starting') return holdEvent(state, event, HELD_LIMIT);
  if (state.phase !== 'running' || event.data.jobId !== state.jobId) return state;
  switch (event.name) {
    case 'job.progress':
      return { ...state, progress: event.data };
    case 'job.preview':
      return { ...state, preview: event.data };
    case 'item':
      return { ...state, items: [...state.items, event.data], progress: null, preview: null };
    case 'done':
      return {
        ...state,
        phase: 'done',
        done: event.data,
        progress: null,
        preview: null,
        items: event.items.length >= state.items.length ? event.items : state.items,
      };
    case 'job.failed':
      return event.data.cancelled
        ? { ...state, phase: 'cancelled', error: null, progress: null, preview: null }
        : { ...state, phase: 'failed', error: event.data.error, progress: null, preview: null };
  }
}

/** The connection dropped or the engine crashed: a running job sends nothing more. */
export function experimentInterrupted<R, I extends { jobId: string }, D extends { jobId: string }>(
  state: ExperimentState<R, I, D>,
  message: string,
): ExperimentState<R, I, D> {
  if (!experimentActive(state)) return state;
  return { ...state, phase: 'failed', error: message, progress: null, preview: null, held: [] };
}

/** 0..1 of an item whose images are made `batch` at a time (the engine's own count where it sends one). */
export function itemFraction(progress: Progress, batch = 1): number {
  return progressFraction(progress, progress.batch ?? batch);
}

/** 0..1 over the whole job: finished items plus the fraction of the current one (its images made `batch` at a time). */
export function experimentFraction(
  state: Pick<ExperimentState<unknown, { jobId: string }, { jobId: string }>, 'total' | 'items' | 'progress' | 'phase'>,
  batch = 1,
): number {
  if (state.phase === 'done') return 1;
  if (state.total <= 0) return 0;
  const done = Math.min(state.items.length, state.total);
  const within = state.progress && done < state.total ? itemFraction(state.progress, batch) : 0;
  return Math.min((done + within) / state.total, 1);
}

/**
 * "evaluation 13 / 39", with "image 2 of 6 · " when the item has several images (or "images 1–6 of 6 · " while a
 * batch of them is made together), or null before any progress.
 */
export function withinText(progress: Progress | null, batch = 1): string | null {
  if (!progress) return null;
  let images = '';
  if (progress.images > 1) {
    const { first, last } = imagesInFlight(progress, progress.batch ?? batch);
    images = `${last > first ? `images ${first}–${last}` : `image ${first}`} of ${progress.images} · `;
  }
  return `${images}evaluation ${progress.evaluation} / ${progress.evaluations}`;
}
