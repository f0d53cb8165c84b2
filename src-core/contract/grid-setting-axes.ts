// What a grid with A1111's Eta, Sigma noise and schedule-setting axes must keep: an axis whose setting no cell's
// sampler reads would make the same image in every cell (refused, as a variation-seed axis at strength 0 is), and each
// cell's schedule max sigma must stay above its min sigma. No Node or engine imports (the renderer checks with it).
import type { z } from 'zod';
import { SAMPLER_LABELS, type GenerateRequest } from './generate.ts';

/**
 * The samplers that read eta and the noise multiplier (the engine's sampler registry, src-core/samplers/index.ts `reads`,
 * says the same: grid-setting-axes.test.ts checks it). DDIM here is Euler on DDIM's grid: no eta.
 */
export const ETA_SAMPLERS: readonly string[] = [
  'euler_ancestral',
  'dpm_2_ancestral',
  'dpmpp_2s_ancestral',
  'dpmpp_sde',
  'dpmpp_2m_sde',
  'dpmpp_2m_sde_heun',
  'dpmpp_3m_sde',
];
export const S_NOISE_SAMPLERS: readonly string[] = [...ETA_SAMPLERS, 'restart'];
/** Euler, Heun and DPM2 multiply their sigma churn's noise by sNoise: it counts there where the churn is on. */
export const CHURN_SAMPLERS: readonly string[] = ['euler', 'heun', 'dpm_2'];

interface Axis {
  kind: string;
  values: readonly unknown[];
}
interface Grid {
  base: GenerateRequest;
  x: Axis;
  y?: Axis;
}

/** A1111's RNG names, as its PNG's "RNG" key writes them: CPU, and NV for the CUDA generator (its GPU draws the same). */
export const RNG_NAMES = { default: 'default', 'torch-cpu': 'CPU', 'torch-cuda': 'NV' } as const;

const SAMPLER_SETTING_NAMES = { eta: 'Eta', sNoise: 'Sigma noise' } as const;

/** The samplers the grid's cells run (both passes', where hires fix has its own): a sampler or Restart axis sets them. */
function gridSamplers(g: Grid): string[] {
  const axis = [g.x, g.y].find((a) => a?.kind === 'sampler' || a?.kind === 'restart');
  const first = axis?.kind === 'sampler' ? (axis.values as string[]) : axis ? ['restart'] : [g.base.sampler];
  return g.base.hires?.sampler ? [...first, g.base.hires.sampler] : first;
}

/** The samplers by their A1111 names ("Euler a"). */
const listed = (names: readonly string[]) => names.map((n) => SAMPLER_LABELS[n as keyof typeof SAMPLER_LABELS] ?? n).join(', ');

/** Why an Eta or Sigma noise axis changes nothing in this grid (no cell's sampler reads it), or undefined. */
export function samplerSettingIssue(kind: string, g: Grid): string | undefined {
  if (kind !== 'eta' && kind !== 'sNoise') return undefined;
  const samplers = gridSamplers(g);
  const readers = kind === 'eta' ? ETA_SAMPLERS : S_NOISE_SAMPLERS;
  const churned = kind === 'sNoise' && (g.base.sChurn ?? 0) > 0;
  if (samplers.some((s) => readers.includes(s) || (churned && CHURN_SAMPLERS.includes(s)))) return undefined;
  const name = SAMPLER_SETTING_NAMES[kind];
  const churnNote = kind === 'sNoise' ? ` (and ${listed(CHURN_SAMPLERS)} with a Sigma churn above 0)` : '';
  const used = listed([...new Set(samplers)]);
  return (
    `${kind === 'eta' ? 'an' : 'a'} ${name} axis would make the same image in every cell: ${used} ignores ${name}; ` +
    `the samplers that read it are ${listed(readers)}${churnNote}`
  );
}

/** Issues for the cells whose schedule max sigma is not above their min sigma (from the axes or the base request). */
export function sigmaRangeIssues(g: Grid, ctx: z.RefinementCtx): void {
  const find = (kind: string) => (g.x.kind === kind ? ('x' as const) : g.y?.kind === kind ? ('y' as const) : undefined);
  const minAxis = find('scheduleSigmaMin'),
    maxAxis = find('scheduleSigmaMax');
  if (!minAxis && !maxAxis) return;
  const valuesOf = (which: 'x' | 'y' | undefined, base: number | undefined) =>
    which ? (g[which]!.values as number[]) : base === undefined ? [] : [base];
  const mins = valuesOf(minAxis, g.base.scheduleSigmaMin),
    maxes = valuesOf(maxAxis, g.base.scheduleSigmaMax);
  const reported = new Set<string>();
  // One issue per axis value: at the max axis's value where there is one, else at the min axis's.
  maxes.forEach((max, i) =>
    mins.forEach((min, j) => {
      if (max > min) return;
      const [which, index] = maxAxis ? [maxAxis, i] : [minAxis!, j];
      if (reported.has(`${which}${index}`)) return;
      reported.add(`${which}${index}`);
      const minFrom = minAxis ? `the ${minAxis.toUpperCase()} axis's min sigma ${min}` : `the Generate form's min sigma ${min}`;
      const maxFrom = maxAxis ? `schedule max sigma ${max}` : `the Generate form's max sigma ${max}`;
      ctx.addIssue({
        code: 'custom',
        path: [which, 'values', index],
        message: `a cell would have ${maxFrom}, not above ${minFrom}: the max sigma must be above the min sigma`,
      });
    }),
  );
}
