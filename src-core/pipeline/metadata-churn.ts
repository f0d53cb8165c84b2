// A1111's sigma churn in PNG parameters, both ways: "Sigma churn", "Sigma tmin", "Sigma tmax" (k-diffusion's s_churn,
// s_tmin, s_tmax), which A1111 writes when they differ from their defaults (0, 0, infinity) and only for the samplers
// that take them (Euler, Heun, DPM2: sd_samplers_kdiffusion.py's sampler_extra_params). It reads a tmax of 0 as infinity.
import { GenerateRequestFields, type GenerateRequest, type GenerateRequestInput } from '../contract/generate.ts';
import { SAMPLERS, type SamplerName } from '../samplers/index.ts';
import { pythonFloat } from './python-numbers.ts';

type Pair = [string, number | undefined];

/** Whether a pass of the request samples with Euler, Heun or DPM2: the first, or hires fix's with a sampler of its own. */
function readsChurn(request: GenerateRequest): boolean {
  const samplers = [request.sampler, request.hires?.sampler ?? request.sampler] as SamplerName[];
  return samplers.some((name) => SAMPLERS[name].reads?.includes('churn'));
}

export function churnValues(request: GenerateRequest): Pair[] {
  if (!readsChurn(request)) return [];
  return [
    ['Sigma churn', request.sChurn ? request.sChurn : undefined],
    ['Sigma tmin', request.sTmin ? request.sTmin : undefined],
    ['Sigma tmax', request.sTmax],
  ];
}

const FIELDS = [
  ['Sigma churn', 'sChurn'],
  ['Sigma tmin', 'sTmin'],
  ['Sigma tmax', 'sTmax'],
] as const;

/** A file's churn into the request; a value this app cannot take gets a note and leaves the field alone. */
export function readChurnSettings(values: Record<string, string>, request: Partial<GenerateRequestInput>, notes: string[]): void {
  for (const [key, field] of FIELDS) {
    const text = values[key];
    if (text === undefined) continue;
    const n = pythonFloat(text);
    // A1111's defaults, written by some tools all the same: churn 0 is off, tmax 0 or inf is no upper limit.
    if (n === 0 && field !== 'sTmin') continue;
    if (n === Infinity && field === 'sTmax') continue;
    const checked = GenerateRequestFields.shape[field].safeParse(n);
    if (n !== undefined && checked.success) request[field] = n;
    else notes.push(`${key} ${JSON.stringify(text.slice(0, 40))} in the file is not a number this app can take; ignored`);
  }
}
