// Format "sampler-vectors/1": a sampler, its options and sigma schedule, an exact mixture denoiser,
// the starting x, the noise draws in order of use, the expected final x and evaluation count.
import { resolveSampler, type SamplerOptions } from '../samplers/index.ts';
import { linearLoop } from '../samplers/linear-loop.ts';
import type { NoiseSampler } from '../samplers/types.ts';
import type { CaseResult } from './formats.ts';
import { mixtureDenoiser, type GaussianMixture } from './gaussian-mixture.ts';

export interface SamplerCase {
  id: string;
  sampler: string;
  options: SamplerOptions;
  sigmas: number[];
  gmm: GaussianMixture;
  x: number[][];
  noise: number[][][];
  expected: number[][];
  nfe: number;
}

export const SAMPLER_TOLERANCE = 1e-6;

/** max |got - expected| / max(1, max |expected|), the pass criterion of the vectors. */
export function relativeError(got: ArrayLike<number>, expected: ArrayLike<number>): number {
  let diff = 0,
    scale = 1;
  for (let i = 0; i < expected.length; i++) {
    diff = Math.max(diff, Math.abs(got[i] - expected[i]));
    scale = Math.max(scale, Math.abs(expected[i]));
  }
  return Number.isNaN(diff) ? Infinity : diff / scale;
}

/**
 * Each case runs twice: the sampler's own loop, and its LinearSteps (where it has them), which is how the engine runs
 * it on a device that keeps the latent (guidance/device-run.ts). Both must meet the tolerance, with the case's
 * evaluations and draws.
 */
export async function runSamplerCase(c: SamplerCase): Promise<CaseResult> {
  try {
    const { sampler, options } = resolveSampler(c.sampler, c.options);
    const predicted = sampler.evaluations(c.sigmas, options);
    let calls = 0,
      drawn = 0;
    const denoise = mixtureDenoiser(c.gmm);
    const counted = (x: Float64Array, sigma: number) => {
      calls++;
      return denoise(x, sigma);
    };
    const noise: NoiseSampler = () => {
      if (drawn >= c.noise.length) throw new Error(`sampler asked for noise draw ${drawn + 1}, the case has ${c.noise.length}`);
      return Float64Array.from(c.noise[drawn++].flat());
    };
    const result = await sampler.sample(counted, Float64Array.from(c.x.flat()), c.sigmas, { noise }, options);
    const error = relativeError(result, c.expected.flat());
    const problems: string[] = [];
    if (!(error <= SAMPLER_TOLERANCE)) problems.push(`error above ${SAMPLER_TOLERANCE.toExponential()}`);
    const [ownCalls, ownDraws] = [calls, drawn];
    const steps = sampler.linearSteps?.(c.sigmas, options);
    let linear = '';
    if (steps) {
      calls = drawn = 0;
      const linearError = relativeError(await linearLoop(counted, Float64Array.from(c.x.flat()), steps, { noise }), c.expected.flat());
      linear = ` linear_err=${linearError.toExponential(2)}`;
      if (!(linearError <= SAMPLER_TOLERANCE)) problems.push(`its linear steps' error above ${SAMPLER_TOLERANCE.toExponential()}`);
      if (calls !== ownCalls || drawn !== ownDraws)
        problems.push(`its linear steps made ${calls} evaluations and ${drawn} draws, its loop ${ownCalls} and ${ownDraws}`);
      [calls, drawn] = [ownCalls, ownDraws];
    }
    if (calls !== c.nfe) problems.push(`made ${calls} evaluations, expected ${c.nfe}`);
    if (predicted !== calls) problems.push(`predicted ${predicted} evaluations but made ${calls}`);
    // Fewer draws than listed is accepted: a reference may record a zero-effect draw (an ulp-sized
    // restart "jump") that the engine skips; the error check still catches any skipped real draw.
    return {
      id: c.id,
      pass: problems.length === 0,
      detail:
        `max_rel_err=${error.toExponential(2)}${linear} nfe=${calls}/${c.nfe} noise=${drawn}/${c.noise.length}` +
        (problems.length ? ' -- ' + problems.join('; ') : ''),
    };
  } catch (error) {
    return { id: c.id, pass: false, detail: `error: ${(error as Error).message}` };
  }
}

export async function runSamplerVectors(doc: { cases: SamplerCase[] }): Promise<CaseResult[]> {
  const results: CaseResult[] = [];
  for (const c of doc.cases) results.push(await runSamplerCase(c));
  return results;
}
