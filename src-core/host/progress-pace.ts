// How often the engine tells the app of a job's progress. One event per model evaluation was over a hundred a second
// on a GPU (a step takes a few ms), each one serialized on the engine's main thread between two UNet calls, sent
// through two IPC hops and drawn by the window, which only ever shows the latest: its counts are totals, so an event
// left out loses nothing. Now at most one per PROGRESS_INTERVAL_MS, and always a batch's last evaluation (the bar
// reaches its end); a step slower than that (the CPU's) still reports every evaluation.
import type { ProgressCounts } from '../contract/generate.ts';

export const PROGRESS_INTERVAL_MS = 50;

/** A job's pace: whether this progress report is sent, given when the last one was. */
export function progressPace(intervalMs = PROGRESS_INTERVAL_MS): (progress: ProgressCounts, now?: number) => boolean {
  let lastSent = -Infinity;
  return (progress, now = performance.now()) => {
    if (progress.evaluation !== progress.evaluations && now - lastSent < intervalMs) return false;
    lastSent = now;
    return true;
  };
}
