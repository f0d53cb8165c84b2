// One axis of the Compare form turned into the contract's grid axis: ticked choices kept in the contract's
// order, typed values parsed and checked against the limits of the kind the axis varies.
import type { z } from 'zod';
import type { GridAxisSchema } from '../../../src-core/contract/experiments.ts';
import {
  GenerateRequestFields,
  LIMITS,
  NOISE_SOURCE_CHOICES,
  SAMPLER_CHOICES,
  SCHEDULE_CHOICES,
} from '../../../src-core/contract/generate.ts';
import type { NumberKind } from './axis-kinds.ts';
import { parseNumberList, parsePromptSRList, type NumberRules } from './axis-lists.ts';
import { parseRestartList } from './axis-restart.ts';
import type { AxisForm } from './compare-form.ts';
import type { Check } from './form.ts';

export type GridAxisInput = z.input<typeof GridAxisSchema>;

const NUMBER_RULES: Record<NumberKind, NumberRules> = {
  steps: { integer: true, min: 1, max: LIMITS.steps },
  cfgScale: { integer: false, min: 0, max: LIMITS.cfgScale },
  seed: { integer: true, min: 0, max: Number.MAX_SAFE_INTEGER },
  // Above 0 (the contract says so; a 0 is reported by the grid's check).
  strength: { integer: false, min: 0, max: 1 },
  clipSkip: { integer: true, min: 1, max: LIMITS.clipSkip },
  variationSeed: { integer: true, min: 0, max: Number.MAX_SAFE_INTEGER },
  // 0 is allowed: a cell without variation, to compare with.
  variationStrength: { integer: false, min: 0, max: 1 },
  // The request fields' limits (eta and sNoise from 0 to 10; sigmas and rho above 0: the grid's check says so of a 0).
  eta: { integer: false, min: 0, max: GenerateRequestFields.shape.eta.unwrap().maxValue ?? 10 },
  sNoise: { integer: false, min: 0, max: GenerateRequestFields.shape.sNoise.unwrap().maxValue ?? 10 },
  scheduleSigmaMin: { integer: false, min: 0, max: LIMITS.scheduleSigma },
  scheduleSigmaMax: { integer: false, min: 0, max: LIMITS.scheduleSigma },
  scheduleRho: { integer: false, min: 0, max: LIMITS.scheduleRho },
};

function ticked<T extends string>(all: readonly T[], chosen: readonly string[]): T[] {
  return all.filter((v) => chosen.includes(v));
}

/** The contract's axis for the form (kind must not be 'none'). */
export function axisFromForm(form: AxisForm): Check<GridAxisInput> {
  switch (form.kind) {
    case 'sampler': {
      const values = ticked(SAMPLER_CHOICES, form.samplers);
      const e = values.length === 0 ? 'tick at least one sampler' : null;
      return e ? { error: e } : { value: { kind: 'sampler', values } };
    }
    case 'schedule': {
      const values = ticked(SCHEDULE_CHOICES, form.schedules);
      return values.length === 0 ? { error: 'tick at least one schedule' } : { value: { kind: 'schedule', values } };
    }
    case 'noiseSource': {
      const values = ticked(NOISE_SOURCE_CHOICES, form.noiseSources);
      return values.length === 0 ? { error: 'tick at least one RNG source' } : { value: { kind: 'noiseSource', values } };
    }
    case 'restart': {
      const r = parseRestartList(form.texts.restart);
      return r.error !== undefined ? r : { value: { kind: 'restart', values: r.value } };
    }
    case 'steps':
    case 'cfgScale':
    case 'seed':
    case 'strength':
    case 'clipSkip':
    case 'variationSeed':
    case 'variationStrength':
    case 'eta':
    case 'sNoise':
    case 'scheduleSigmaMin':
    case 'scheduleSigmaMax':
    case 'scheduleRho': {
      const kind = form.kind;
      const r = parseNumberList(form.texts[kind], NUMBER_RULES[kind]);
      return r.error !== undefined ? r : { value: { kind, values: r.value } as GridAxisInput };
    }
    case 'promptSR': {
      const r = parsePromptSRList(form.texts.promptSR);
      return r.error !== undefined ? r : { value: { kind: 'promptSR', values: r.value } };
    }
    case 'none':
      return { error: 'no axis chosen' };
  }
}
