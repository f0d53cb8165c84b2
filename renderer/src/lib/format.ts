// Short texts the views show: evaluations, token counts, progress, timings.
import type { Events } from '../../../src-core/contract/api.ts';
import { LIMITS } from '../../../src-core/contract/generate.ts';

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** "20 steps · 39 model evaluations" */
export function formatEvaluations(steps: number, evaluations: number): string {
  return `${plural(steps, 'step')} · ${plural(evaluations, 'model evaluation')}`;
}

export interface TokenInfo {
  text: string;
  over: boolean;
  warning: string | null;
}

/**
 * A1111's counter, "80/150": tokens used over the capacity of the 75-token chunks so far (long prompts are
 * encoded in chunks, nothing is cut). The engine's warning (tokens a fixed-length model drops, an
 * unreadable emphasis weight) comes alongside.
 */
export function formatTokens(tokens: number, max: number, warning?: string, countedChars?: number): TokenInfo {
  // A prompt over the length limit is counted on its first part only: say so rather than hide the counter.
  const part = countedChars === undefined ? '' : ` in the first ${formatCount(countedChars)} characters`;
  return { text: `${tokens}/${max}${part}`, over: warning !== undefined || countedChars !== undefined, warning: warning ?? null };
}

/** 27412 -> "27,412" (fixed, so messages read the same everywhere). */
export function formatCount(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+$)/g, ',');
}

/** "The prompt is 27,412 characters; the limit is 20,000", or null within the contract's limit. */
export function promptLengthError(text: string, what: 'prompt' | 'negative prompt'): string | null {
  if (text.length <= LIMITS.promptChars) return null;
  return `The ${what} is ${formatCount(text.length)} characters; the limit is ${formatCount(LIMITS.promptChars)}`;
}

export function formatMs(ms: number): string {
  if (!Number.isFinite(ms)) return '–';
  if (ms >= 10_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms >= 1000) return `${(ms / 1000).toFixed(2)} s`;
  return `${Math.round(ms)} ms`;
}

export function formatSeconds(seconds: number): string {
  return formatMs(seconds * 1000);
}

export type Timings = Events['job.done']['timings'];

export function formatTimings(t: Timings): Array<{ label: string; value: string }> {
  return [
    { label: 'Text encoder', value: formatMs(t.textEncoderMs) },
    { label: 'UNet', value: formatMs(t.unetMs) },
    { label: 'VAE', value: formatMs(t.vaeMs) },
    { label: 'Overhead', value: formatMs(t.overheadMs) },
  ];
}

export type Progress = Events['job.progress'];

/** "Image 2 of 4 · evaluation 13 / 39" */
/** The 1-based first and last image being made now: a batch's images share every evaluation. */
export function imagesInFlight(p: Progress, batch = p.batch ?? 1): { first: number; last: number } {
  const total = Math.max(p.images, 1);
  const first = Math.min(Math.max(p.imagesDone, 0) + 1, total);
  return { first, last: Math.min(first + Math.max(1, Math.floor(batch)) - 1, total) };
}

/** "Image 3 of 4 · evaluation 12 / 20", or "Images 1–4 of 8 · …" while a batch of 4 is made. */
export function formatProgress(p: Progress): string {
  const { first, last } = imagesInFlight(p);
  const which = last > first ? `Images ${first}–${last}` : `Image ${first}`;
  return `${which} of ${p.images} · evaluation ${p.evaluation} / ${p.evaluations}`;
}

/** Fraction 0..1 of the current job (all images together); a batch's evaluations advance all of its images. */
export function progressFraction(p: Progress, batch = p.batch ?? 1): number {
  if (p.images <= 0) return 0;
  const within = p.evaluations > 0 ? Math.min(Math.max(p.evaluation / p.evaluations, 0), 1) : 0;
  const done = Math.min(Math.max(p.imagesDone, 0), p.images);
  const { first, last } = imagesInFlight(p, batch);
  const making = done < p.images ? last - first + 1 : 0;
  return Math.min((done + making * within) / p.images, 1);
}

export function formatDate(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toLocaleString();
}
