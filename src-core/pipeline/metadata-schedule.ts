// A1111's schedule settings in PNG parameters, both ways: "Schedule min sigma", "Schedule max sigma", "Schedule rho"
// (its Settings' sigma min, sigma max and rho, written when they differ from the model's and, for rho, only for the
// schedules that read one) and "Discard penultimate sigma: True" (its "Always discard next-to-last sigma", written
// where the sampler does not discard by itself). From A1111's sd_samplers_kdiffusion.py get_sigmas.
import { LIMITS, type GenerateRequest, type GenerateRequestInput } from '../contract/generate.ts';
import { SAMPLERS, type SamplerName } from '../samplers/index.ts';
import { pythonFloat } from './python-numbers.ts';

type Pair = [string, string | number | undefined];

export function scheduleSettingValues(request: GenerateRequest): Pair[] {
  const readsRho = request.schedule === 'karras' || request.schedule === 'polyexponential';
  const discards = request.discardPenultimateSigma && !SAMPLERS[request.sampler as SamplerName].discardPenultimateSigma;
  return [
    ['Schedule min sigma', request.scheduleSigmaMin],
    ['Schedule max sigma', request.scheduleSigmaMax],
    ['Schedule rho', readsRho ? request.scheduleRho : undefined],
    ['Discard penultimate sigma', discards ? 'True' : undefined],
  ];
}

const FIELDS = [
  ['Schedule min sigma', 'scheduleSigmaMin', LIMITS.scheduleSigma],
  ['Schedule max sigma', 'scheduleSigmaMax', LIMITS.scheduleSigma],
  ['Schedule rho', 'scheduleRho', LIMITS.scheduleRho],
] as const;

/** The settings a file has into the request; a value this app cannot take gets a note and leaves the field alone. */
export function readScheduleSettings(values: Record<string, string>, request: Partial<GenerateRequestInput>, notes: string[]): void {
  for (const [key, field, limit] of FIELDS) {
    const text = values[key];
    if (text === undefined) continue;
    const n = pythonFloat(text);
    if (n !== undefined && n > 0 && n <= limit) request[field] = n;
    else notes.push(`${key} ${JSON.stringify(text.slice(0, 40))} in the file is not a number over 0 and up to ${limit}; ignored`);
  }
  const { scheduleSigmaMin: min, scheduleSigmaMax: max } = request;
  if (min !== undefined && max !== undefined && !(max > min)) {
    notes.push(`the file's schedule max sigma ${max} is not above its min sigma ${min}; both ignored`);
    delete request.scheduleSigmaMin;
    delete request.scheduleSigmaMax;
  }
  // A1111's Uniform is the model's own table, range or not; here it is Normal, which spans the range as A1111's Normal.
  const ranged = request.scheduleSigmaMin !== undefined || request.scheduleSigmaMax !== undefined;
  if (ranged && values['Schedule type']?.trim().toLowerCase() === 'uniform')
    notes.push("A1111's Uniform schedule ignores the file's schedule sigma range; here it is Normal, which spans it");
  // A1111 reads it as a bool setting: "True" turns it on.
  if (values['Discard penultimate sigma']?.trim() === 'True') request.discardPenultimateSigma = true;
}
