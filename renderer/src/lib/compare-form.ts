// The Compare view's form: each axis as the user left it, the defaults it starts from and the hints shown
// in an empty values field.
import type { AxisKind, TextKind } from './axis-kinds.ts';
import type { NoiseSourceName, SamplerName, ScheduleName } from './form.ts';

/** One axis as the user left it; the values of every kind are kept so switching kinds loses nothing. */
export interface AxisForm {
  kind: AxisKind | 'none';
  texts: Record<TextKind, string>;
  samplers: SamplerName[];
  schedules: ScheduleName[];
  noiseSources: NoiseSourceName[];
}

export interface CompareForm {
  x: AxisForm;
  y: AxisForm;
}

export const TEXT_PLACEHOLDERS: Record<TextKind, string> = {
  steps: '10, 20, 30',
  cfgScale: '3, 5, 7, 9',
  seed: '1, 2, 3, 4',
  restart: 'a1111, sd, [[3,2,0.1,2]]',
  promptSR: 'red, (red:1.3), (red:1.6)',
  strength: '0.3, 0.5, 0.7',
  clipSkip: '1, 2',
  variationSeed: '1, 2, 3, 4',
  variationStrength: '0, 0.1, 0.2, 0.3',
  eta: '0, 0.5, 1',
  sNoise: '0.9, 1',
  scheduleSigmaMin: '0.03, 0.1, 0.3',
  scheduleSigmaMax: '5, 10, 14.6',
  scheduleRho: '3, 5, 7',
};

export function defaultAxis(kind: AxisForm['kind']): AxisForm {
  return {
    kind,
    // The placeholders' values, but for Restart's (the presets alone) and Prompt S/R's (the user's own words).
    texts: { ...TEXT_PLACEHOLDERS, restart: 'a1111, sd', promptSR: '' },
    samplers: ['euler', 'heun', 'dpmpp_2m'],
    schedules: ['karras', 'normal'],
    noiseSources: ['torch-cpu', 'torch-cuda'],
  };
}

export function defaultCompareForm(): CompareForm {
  return { x: defaultAxis('sampler'), y: defaultAxis('none') };
}
