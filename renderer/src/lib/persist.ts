// The settings that survive a reload and a restart: prompt, negative prompt, sampler, steps, CFG, size, and A1111's
// settings (clip skip, ENSD, the schedule settings, the churn), and the active tab, in localStorage (kept per origin by
// the browser and by Electron alike). What is read back is checked field by field against the contract: a stale or
// hostile value is dropped alone.
import type { ZodType } from 'zod';
import { GenerateRequestSchema } from '../../../src-core/contract/generate.ts';
import type { FormState } from './form.ts';
import type { View } from './studio.svelte.ts';

export const SETTINGS_KEY = 'restart-studio.settings.v1';

const VIEWS: readonly View[] = ['generate', 'gallery', 'compare', 'explore'];

type KeptField =
  | 'prompt'
  | 'negativePrompt'
  | 'sampler'
  | 'steps'
  | 'cfgScale'
  | 'width'
  | 'height'
  | 'clipSkip'
  | 'etaNoiseSeedDelta'
  | 'scheduleSigmaMin'
  | 'scheduleSigmaMax'
  | 'scheduleRho'
  | 'discardPenultimateSigma'
  | 'sChurn'
  | 'sTmin'
  | 'sTmax';

const shape = GenerateRequestSchema.shape;
const FIELDS: Record<KeptField, ZodType> = {
  prompt: shape.prompt,
  negativePrompt: shape.negativePrompt,
  sampler: shape.sampler,
  steps: shape.steps,
  cfgScale: shape.cfgScale,
  width: shape.width,
  height: shape.height,
  // A1111 keeps Clip skip as a setting: a model that wants 2 wants it every time.
  clipSkip: shape.clipSkip,
  // So is ENSD (Settings > Sampler parameters): a user who matches NovelAI's images sets 31337 once.
  etaNoiseSeedDelta: shape.etaNoiseSeedDelta,
  // And its schedule settings (the same Settings page).
  scheduleSigmaMin: shape.scheduleSigmaMin,
  scheduleSigmaMax: shape.scheduleSigmaMax,
  scheduleRho: shape.scheduleRho,
  discardPenultimateSigma: shape.discardPenultimateSigma,
  // And the samplers' churn (the same page again).
  sChurn: shape.sChurn,
  sTmin: shape.sTmin,
  sTmax: shape.sTmax,
};

export interface Saved {
  form: Partial<Pick<FormState, KeptField>>;
  view?: View;
}

type Storage = Pick<globalThis.Storage, 'getItem' | 'setItem'>;

export function readSaved(storage: Storage | null): Saved {
  const saved: Saved = { form: {} };
  let raw: unknown;
  try {
    raw = JSON.parse(storage?.getItem(SETTINGS_KEY) ?? 'null');
  } catch {
    return saved;
  }
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) return saved;
  const record = raw as Record<string, unknown>;
  for (const key of Object.keys(FIELDS) as KeptField[]) {
    if (!Object.hasOwn(record, key) || record[key] === undefined || record[key] === null) continue;
    const checked = FIELDS[key].safeParse(record[key]);
    if (checked.success) (saved.form as Record<string, unknown>)[key] = checked.data;
  }
  const view = record.view;
  if (typeof view === 'string' && (VIEWS as readonly string[]).includes(view)) saved.view = view as View;
  return saved;
}

export function writeSaved(storage: Storage | null, form: FormState, view: View): void {
  const kept: Record<string, unknown> = { view };
  for (const key of Object.keys(FIELDS) as KeptField[]) kept[key] = form[key];
  try {
    storage?.setItem(SETTINGS_KEY, JSON.stringify(kept));
  } catch {
    // full or blocked storage: the settings are a convenience, never an error
  }
}

export function applySaved(form: FormState, saved: Saved): FormState {
  return { ...form, ...saved.form };
}

/** localStorage where the page may use it, else null. */
export function browserStorage(): Storage | null {
  try {
    return globalThis.localStorage ?? null;
  } catch {
    return null;
  }
}
