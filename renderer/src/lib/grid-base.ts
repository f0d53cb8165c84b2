// The grid's base request, built from the Generate form: one image per cell, plus what an axis needs from
// the form (its Restart settings for a sampler axis with Restart, its Variation seed for a Var. strength axis).
import type { GenerateRequestInput } from '../../../src-core/contract/generate.ts';
import type { CompareForm } from './compare-form.ts';
import { formToRequest, type Check, type FormState, type RequestOptions } from './form.ts';
import { resolveSeed } from './seed.ts';
import { restartSettings } from './segments.ts';

/** True when a sampler axis includes Restart: its cells then use the Generate form's Restart settings. */
export function samplerAxisHasRestart(form: CompareForm): boolean {
  return [form.x, form.y].some((a) => a.kind === 'sampler' && a.samplers.includes('restart'));
}

/**
 * The grid's base request from the Generate form: one image per cell; when a sampler axis includes
 * Restart and the form's sampler is another one, the form's Restart settings are carried along; a
 * Var. strength axis gets the form's Variation seed (-1: one random seed for the grid) even at strength 0.
 * `random` draws the seed when the form says random (pass a fixed one while only checking).
 */
export function gridBase(form: FormState, compare: CompareForm, options: RequestOptions = {}): Check<GenerateRequestInput> {
  const checked = formToRequest(form, options);
  if (checked.error !== undefined) return { error: `${checked.error} (Generate view)` };
  const base: GenerateRequestInput = { ...checked.value, count: 1, batchSize: 1 };
  if (samplerAxisHasRestart(compare) && !base.restart) {
    const r = restartSettings(form.restartMode, form.segments, form.restartExtra);
    if (r.error !== undefined) return { error: `${r.error} (Generate view's Restart settings)` };
    base.restart = r.restart;
  }
  // A1111 turns a Var. strength axis towards the request's variation seed (subseed), drawn once for the whole grid
  // when random; the form's request leaves it out while the form's own strength is 0.
  const hasStrengthAxis = compare.x.kind === 'variationStrength' || compare.y.kind === 'variationStrength';
  if (hasStrengthAxis && base.variationSeed === undefined) {
    const seed = resolveSeed(form.variationSeed, options.random, 'Variation seed');
    if (seed.error !== undefined) return { error: `${seed.error} (Generate view)` };
    base.variationSeed = seed.seed;
  }
  return { value: base };
}
