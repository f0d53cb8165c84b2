// What the guidance sweep takes from the Generate form besides its prompts and schedule: the settings that change every
// image (noise source, A1111's Clip skip, emphasis mode, ENSD), and the Explore view's line saying which are in effect.
// Not the size: the sweep runs at the model's native size, where the evaluator measures diversity and accuracy.
import type { SweepRequestInput } from '../../../src-core/contract/experiments.ts';
import { wholeNumber, type FormState } from './form.ts';
import { LIMITS } from '../../../src-core/contract/generate.ts';
import { noiseSourceChoices } from './options.ts';

export type SweepGenerateSettings = Pick<SweepRequestInput, 'noiseSource' | 'clipSkip' | 'emphasis' | 'etaNoiseSeedDelta'>;

const EMPHASIS_LABELS: Record<string, string> = { original: 'Original', 'no-norm': 'No norm', ignore: 'Ignore weights' };

/**
 * The form's settings for the sweep request, each left out at its default (so a sweep reads as before they existed),
 * or the error of the one that cannot be used.
 */
export function sweepGenerateSettings(form: FormState): { value: SweepGenerateSettings } | { error: string } {
  const settings: SweepGenerateSettings = {};
  if (form.noiseSource && form.noiseSource !== 'default') settings.noiseSource = form.noiseSource;
  if (form.clipSkip && form.clipSkip !== 1) settings.clipSkip = form.clipSkip;
  if (form.emphasis && form.emphasis !== 'original') settings.emphasis = form.emphasis;
  const delta = form.etaNoiseSeedDelta ?? 0;
  if (delta !== 0) {
    const error = wholeNumber('Eta noise seed delta', delta, 0, LIMITS.etaNoiseSeedDelta, 'range');
    if (error) return { error: `${error} (0: off)` };
    settings.etaNoiseSeedDelta = delta;
  }
  return { value: settings };
}

/**
 * "Noise A1111 CPU · Clip skip 2 · Emphasis No norm · ENSD 31337": the form's settings the sweep uses, or null when all
 * are at their defaults. `clipSkipIgnoredBy`: the loaded model's family where it ignores Clip skip (SD 2, SDXL), as the
 * engine does (each image then says nothing of it).
 */
export function sweepSettingsSummary(request: SweepGenerateSettings, clipSkipIgnoredBy: string | null = null): string | null {
  const parts: string[] = [];
  if (request.noiseSource && request.noiseSource !== 'default') {
    const label = noiseSourceChoices(null).find((c) => c.value === request.noiseSource)?.label ?? request.noiseSource;
    parts.push(`Noise ${label}`);
  }
  if (request.clipSkip !== undefined && request.clipSkip > 1)
    parts.push(`Clip skip ${request.clipSkip}${clipSkipIgnoredBy ? ` (ignored by ${clipSkipIgnoredBy} models, as in A1111)` : ''}`);
  if (request.emphasis && request.emphasis !== 'original') parts.push(`Emphasis ${EMPHASIS_LABELS[request.emphasis] ?? request.emphasis}`);
  if (request.etaNoiseSeedDelta) parts.push(`ENSD ${request.etaNoiseSeedDelta}`);
  return parts.length ? parts.join(' · ') : null;
}
