// How often the engine tells the app of a job's progress. One event per model evaluation was over a hundred a second
// on a GPU (a step takes a few ms), each one serialized on the engine's main thread between two UNet calls, sent
// through two IPC hops and drawn by the window, which only ever shows the latest: its counts are totals, so an event
// left out loses nothing. A preview (generate() sends one at most every PREVIEW_INTERVAL_MS, 50) carries the counts
// of its moment and stands for a progress event. Other reports are sent at most every PROGRESS_INTERVAL_MS after the
// last event, and always at a batch's last evaluation (the bar reaches its end). That interval is twice the
// previews': while they come, a progress report never falls due, and one message goes where two went before (a
// step's evaluation is reported just before its preview), each 30-40 us between two UNet calls in the bench's runs at
// 4x64x64. Without previews the bar moves ten times a second; a step slower than that (the CPU's) still reports each
// evaluation.
import type { ProgressCounts } from '../contract/generate.ts';
import type { GenerateProgress } from '../pipeline/txt2img.ts';
import { PREVIEW_INTERVAL_MS } from '../pipeline/preview.ts';

export const PROGRESS_INTERVAL_MS = 2 * PREVIEW_INTERVAL_MS;

export type ProgressEvent =
  | ({ event: 'progress' } & ProgressCounts)
  | { event: 'preview'; width: number; height: number; rgba: Uint8Array; progress: ProgressCounts };

/** A job's progress reports to the events sent for them: every preview, and the other reports at the pace. */
export function progressEvents(
  send: (event: ProgressEvent) => void,
  intervalMs = PROGRESS_INTERVAL_MS,
): (progress: GenerateProgress, now?: number) => void {
  let lastSent = -Infinity;
  return (p, now = performance.now()) => {
    if (!p.preview && p.evaluation !== p.evaluations && now - lastSent < intervalMs) return;
    lastSent = now;
    // The counts alone, named one by one: whatever else a report carries stays in this process.
    const counts = {
      imagesDone: p.imagesDone,
      images: p.images,
      batch: p.batch,
      evaluation: p.evaluation,
      evaluations: p.evaluations,
      step: p.step,
      steps: p.steps,
      sigma: p.sigma,
    };
    send(p.preview ? { event: 'preview', ...p.preview, progress: counts } : { event: 'progress', ...counts });
  };
}
