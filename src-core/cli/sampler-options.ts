// The generate command's sampler options: --eta, --s-noise, --restart and its churn (--restart-gamma, --s-min,
// --s-max), and the sigma churn of Euler, Heun and DPM2 (--s-churn, --s-tmin, --s-tmax). Each is parsed and checked
// whenever it is given; one that none of the run's samplers uses is left out of the request with a note, as the engine
// does with --original-size on a model that is not SDXL, so that no PNG records a setting that changed nothing.
import { GenerateRequestFields, RestartSettingsSchema, type GenerateRequestInput } from '../contract/generate.ts';
import { checkedNumberOption, ignoredNote } from './option-values.ts';
import { SAMPLER_NAMES, SAMPLERS, type SamplerSetting } from '../samplers/index.ts';

type Values = Record<string, unknown>;
type SamplerFields = Pick<GenerateRequestInput, 'eta' | 'sNoise' | 'restart' | 'sChurn' | 'sTmin' | 'sTmax'>;

export const CHURN_HELP = `  --s-churn X            sigma churn for Euler, Heun and DPM2: noise added before each step (default: 0, off;
                         A1111's "Sigma churn"); --s-noise is its noise multiplier
  --s-tmin X, --s-tmax X the sigmas where that churn applies (default: 0 and no upper limit)
`;

export const CHURN_OPTIONS = {
  's-churn': { type: 'string' },
  's-tmin': { type: 'string' },
  's-tmax': { type: 'string' },
} as const;

const fields = GenerateRequestFields.shape;
const churnFields = RestartSettingsSchema.options[2].shape;

/** The samplers that read each option, from the sampler registry (ddim there is Euler on DDIM's grid: no eta). */
const readersOf = (setting: SamplerSetting) => SAMPLER_NAMES.filter((name) => SAMPLERS[name].reads?.includes(setting));
const READERS = { eta: readersOf('eta'), 's-noise': readersOf('sNoise'), restart: readersOf('restart'), churn: readersOf('churn') };

/** "a", "a and b", "a, b and c". */
function listed(names: readonly string[]): string {
  return names.length > 1 ? `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}` : names[0];
}

function restartSpec(spec: string): NonNullable<GenerateRequestInput['restart']> {
  if (spec === 'a1111' || spec === 'sd') return { preset: spec };
  try {
    return { segments: JSON.parse(spec) as [number, number, number, number][] };
  } catch {
    throw new Error(`--restart must be a1111, sd or a JSON list of [N_r, K, t_min, t_max] segments (got "${spec}")`);
  }
}

/**
 * The request fields these options set for a run sampled by `samplers` (the first pass's, and hires fix's where it
 * has its own), and a note for each group of options that were ignored.
 */
export function samplerOptionsFromCli(values: Values, samplers: readonly string[]): { fields: SamplerFields; notes: string[] } {
  const eta = checkedNumberOption(values, 'eta', fields.eta);
  const sNoise = checkedNumberOption(values, 's-noise', fields.sNoise);
  const churn = {
    restartGamma: checkedNumberOption(values, 'restart-gamma', churnFields.restartGamma),
    sMin: checkedNumberOption(values, 's-min', churnFields.sMin),
    sMax: checkedNumberOption(values, 's-max', churnFields.sMax),
  };
  const churnNames = ['restart-gamma', 's-min', 's-max'].filter((n) => values[n] !== undefined);
  const sigmaChurn = {
    sChurn: checkedNumberOption(values, 's-churn', fields.sChurn),
    sTmin: checkedNumberOption(values, 's-tmin', fields.sTmin),
    sTmax: checkedNumberOption(values, 's-tmax', fields.sTmax),
  };
  const sigmaChurnNames = Object.keys(CHURN_OPTIONS).filter((n) => values[n] !== undefined);
  const spec = typeof values.restart === 'string' ? restartSpec(values.restart) : undefined;
  const notes: string[] = [];
  const out: SamplerFields = {};
  const ignore = (names: string[], readers: readonly string[]) =>
    notes.push(
      ignoredNote(
        names,
        `the ${listed(readers)} sampler${readers.length > 1 ? 's' : ''}`,
        `this run samples with ${samplers.join(' and ')}`,
      ),
    );
  const reads = (option: keyof typeof READERS) => samplers.some((s) => (READERS[option] as readonly string[]).includes(s));
  if (eta !== undefined) {
    if (reads('eta')) out.eta = eta;
    else ignore(['eta'], READERS.eta);
  }
  if (sigmaChurnNames.length > 0) {
    if (reads('churn')) Object.assign(out, Object.fromEntries(Object.entries(sigmaChurn).filter(([, v]) => v !== undefined)));
    else ignore(sigmaChurnNames, READERS.churn);
  }
  // Euler, Heun and DPM2 multiply their churn noise by it: it counts there where the churn is on.
  const churned = out.sChurn !== undefined && out.sChurn > 0;
  if (sNoise !== undefined) {
    if (reads('s-noise') || churned) out.sNoise = sNoise;
    else ignore(['s-noise'], READERS['s-noise']);
  }
  // The spec stays in the request even when unused, so that the request's check still refuses a wrong one: only
  // Restart reads it, and PNGs record it only for Restart.
  const segments = spec && 'segments' in spec;
  if (spec) out.restart = segments ? { ...spec, ...Object.fromEntries(Object.entries(churn).filter(([, v]) => v !== undefined)) } : spec;
  const restartNames = [...(spec ? ['restart'] : []), ...churnNames];
  if (restartNames.length > 0 && !reads('restart')) ignore(restartNames, READERS.restart);
  else if (churnNames.length > 0 && !segments) {
    const preset = spec && 'preset' in spec ? spec.preset : 'a1111';
    notes.push(ignoredNote(churnNames, '--restart segments', `the ${preset} preset takes no churn`));
  }
  return { fields: out, notes };
}
