// The generate command's schedule settings, A1111's Settings > Sampler parameters: --schedule-sigma-min X,
// --schedule-sigma-max X, --schedule-rho X ("Schedule min sigma", "Schedule max sigma", "Schedule rho") and
// --discard-penultimate-sigma ("Always discard next-to-last sigma").
import { GenerateRequestFields, type GenerateRequestInput } from '../contract/generate.ts';
import { checkedNumberOption } from './option-values.ts';

export const SCHEDULE_HELP = `  --schedule-sigma-min X, --schedule-sigma-max X  the sigma range the schedule spans (default: the model's;
                         Simple and Align Your Steps ignore it, as in A1111)
  --schedule-rho X       Karras's rho (default 7) or Polyexponential's (default 1)
  --discard-penultimate-sigma  build the schedule for one step more and drop its next-to-last sigma, for any sampler
                         (A1111's "Always discard next-to-last sigma"; DPM2, DPM2 a and DPM++ 3M SDE always do)
`;

export const SCHEDULE_OPTIONS = {
  'schedule-sigma-min': { type: 'string' },
  'schedule-sigma-max': { type: 'string' },
  'schedule-rho': { type: 'string' },
  'discard-penultimate-sigma': { type: 'boolean' },
} as const;

type Values = Record<string, string | boolean | undefined>;

/** The request's schedule settings, each checked as its request field; unset ones are left out. */
export function scheduleFromCli(values: Values): Partial<GenerateRequestInput> {
  const fields = GenerateRequestFields.shape;
  const sigmaMin = checkedNumberOption(values, 'schedule-sigma-min', fields.scheduleSigmaMin);
  const sigmaMax = checkedNumberOption(values, 'schedule-sigma-max', fields.scheduleSigmaMax);
  const rho = checkedNumberOption(values, 'schedule-rho', fields.scheduleRho);
  return {
    ...(sigmaMin === undefined ? {} : { scheduleSigmaMin: sigmaMin }),
    ...(sigmaMax === undefined ? {} : { scheduleSigmaMax: sigmaMax }),
    ...(rho === undefined ? {} : { scheduleRho: rho }),
    ...(values['discard-penultimate-sigma'] ? { discardPenultimateSigma: true } : {}),
  };
}
