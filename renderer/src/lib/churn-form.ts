// The Generate form's sigma churn (A1111's "Sigma churn", "Sigma tmin", "Sigma tmax"; k-diffusion's s_churn, s_tmin,
// s_tmax), which only Euler, Heun and DPM2 take. Empty: off (churn 0, tmin 0, no tmax) and left out of the request.
import type { GenerateRequestInput } from '../../../src-core/contract/generate.ts';

type Fields = Pick<GenerateRequestInput, 'sChurn' | 'sTmin' | 'sTmax'>;

/** The samplers that read the churn (the engine's registry says the same: churn-form.test.ts checks it). */
export const CHURN_SAMPLERS: readonly string[] = ['euler', 'heun', 'dpm_2'];

export const churnApplies = (sampler: string): boolean => CHURN_SAMPLERS.includes(sampler);

/** The form's part (form.ts FormState has it); null: empty. */
export interface ChurnForm {
  sChurn: number | null;
  sTmin: number | null;
  sTmax: number | null;
}

const CHURN_MAX = 100,
  SIGMA_MAX = 1000;

function rangeError(label: string, v: number | null, min: number, overMin: boolean, max: number): string | null {
  if (v === null || (Number.isFinite(v) && (overMin ? v > min : v >= min) && v <= max)) return null;
  return `${label} must be a number ${overMin ? 'over' : 'from'} ${min} up to ${max} (or empty: off)`;
}

/** The request's churn for a run with `sampler` (none for a sampler that ignores it), or what is wrong in words. */
export function churnFields(
  form: ChurnForm & { sampler: string },
): { value: Fields; error?: undefined } | { value?: undefined; error: string } {
  if (!churnApplies(form.sampler)) return { value: {} };
  const churn = form.sChurn ?? null,
    tmin = form.sTmin ?? null,
    tmax = form.sTmax ?? null;
  const error =
    rangeError('Sigma churn', churn, 0, false, CHURN_MAX) ??
    rangeError('Sigma tmin', tmin, 0, false, SIGMA_MAX) ??
    rangeError('Sigma tmax', tmax, 0, true, SIGMA_MAX);
  if (error) return { error };
  const value: Fields = {};
  if (churn !== null && churn > 0) value.sChurn = churn;
  if (tmin !== null && tmin > 0) value.sTmin = tmin;
  if (tmax !== null) value.sTmax = tmax;
  return { value };
}

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/** A request's (a dropped PNG's) churn into the form: absent is off, as the file was made without it. */
export function applyChurn(next: ChurnForm, request: Partial<GenerateRequestInput>): void {
  next.sChurn = num(request.sChurn);
  next.sTmin = num(request.sTmin);
  next.sTmax = num(request.sTmax);
}
