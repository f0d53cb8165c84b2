// The Generate form's A1111 schedule settings (its Settings > Sampler parameters): sigma min, sigma max and rho, and
// "Always discard next-to-last sigma". Empty or off: left out of the request (the model's range, the schedule's rho).
import { LIMITS, type GenerateRequestInput } from '../../../src-core/contract/generate.ts';

type Fields = Pick<GenerateRequestInput, 'scheduleSigmaMin' | 'scheduleSigmaMax' | 'scheduleRho' | 'discardPenultimateSigma'>;

/** The form's part (form.ts FormState has it): A1111's sigma min, sigma max, rho (null: off) and the discard. */
export interface ScheduleSettingsForm {
  scheduleSigmaMin: number | null;
  scheduleSigmaMax: number | null;
  scheduleRho: number | null;
  discardPenultimateSigma: boolean;
}

const positive = (label: string, v: number | null, max: number): string | null =>
  v === null || (Number.isFinite(v) && v > 0 && v <= max) ? null : `${label} must be a number over 0 and up to ${max} (or empty: off)`;

/** The request's schedule settings, or what is wrong with them in words. */
export function scheduleSettingsFields(
  form: ScheduleSettingsForm,
): { value: Fields; error?: undefined } | { value?: undefined; error: string } {
  const min = form.scheduleSigmaMin ?? null,
    max = form.scheduleSigmaMax ?? null,
    rho = form.scheduleRho ?? null;
  const error =
    positive('Schedule min sigma', min, LIMITS.scheduleSigma) ??
    positive('Schedule max sigma', max, LIMITS.scheduleSigma) ??
    positive('Schedule rho', rho, LIMITS.scheduleRho) ??
    (min !== null && max !== null && !(max > min) ? 'Schedule max sigma must be above the min sigma' : null);
  if (error) return { error };
  const value: Fields = {};
  if (min !== null) value.scheduleSigmaMin = min;
  if (max !== null) value.scheduleSigmaMax = max;
  if (rho !== null) value.scheduleRho = rho;
  if (form.discardPenultimateSigma) value.discardPenultimateSigma = true;
  return { value };
}

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/** A request's (a dropped PNG's) schedule settings into the form: absent ones are off, as the file was made without them. */
export function applyScheduleSettings(next: ScheduleSettingsForm, request: Partial<GenerateRequestInput>): void {
  next.scheduleSigmaMin = num(request.scheduleSigmaMin);
  next.scheduleSigmaMax = num(request.scheduleSigmaMax);
  next.scheduleRho = num(request.scheduleRho);
  next.discardPenultimateSigma = request.discardPenultimateSigma === true;
}
