// Restart sampling (Xu et al., NeurIPS 2023): Heun steps down a main grid, and inside chosen
// intervals [t_min, t_max] repeated forward noise jumps back up to t_max followed by Heun passes
// down again. A run is first laid out as a plan of steps, so the evaluation count is known
// before any model call and the execution loop is the same for every Restart form.
import { karrasRamp } from '../schedule/karras.ts';
import { addNoise, checkSigmas, formatSigma, GuardedDenoiser, heunStep, heunWork } from './helpers.ts';
import { SamplerError, type Denoiser, type LinearStep, type SampleContext } from './types.ts';
import { heunLinearStep } from './heun.ts';

/** [N_r, K, t_min, t_max]: N_r sigma points per restart pass (N_r - 1 Heun steps), K restarts. */
export type RestartSegment = [number, number, number, number];

export interface RestartOptions {
  /** Paper form: explicit segments on the caller's main grid. */
  segments?: RestartSegment[];
  /** 'a1111': AUTOMATIC1111's step-matched preset. 'sd': the paper's Stable Diffusion presets for guidance_scale. */
  preset?: 'a1111' | 'sd';
  guidance_scale?: number;
  s_noise?: number;
  /** Churn inside restart passes, applied where s_min <= sigma <= s_max; 0 = follow the ODE. */
  restart_gamma?: number;
  s_min?: number;
  s_max?: number;
  rho?: number;
}

interface PlannedStep {
  /** Sigma the step starts from (above the grid point when churn raised it). */
  start: number;
  to: number;
  secondOrder: boolean;
  /** Stds of the noise added before the step, one draw each, in order (restart jump, churn). */
  noiseBefore: number[];
}

/** The paper's Stable Diffusion presets, keyed by guidance scale: segments as [N_r, K, t_min, t_max]. */
export const SD_PAPER_PRESETS: ReadonlyArray<{ guidance: number; segments: RestartSegment[] }> = [
  {
    guidance: 2,
    segments: [
      [5, 2, 1, 9],
      [5, 2, 5, 10],
    ],
  },
  { guidance: 3, segments: [[10, 2, 0.1, 3]] },
  { guidance: 5, segments: [[10, 2, 0.1, 2]] },
  { guidance: 8, segments: [[10, 2, 0.1, 2]] },
];

/** The preset whose guidance scale is nearest to w (ties go to the lower scale). */
export function sdPresetSegments(w: number): RestartSegment[] {
  if (!Number.isFinite(w)) throw new SamplerError(`the Stable Diffusion Restart preset needs a finite guidance scale (got ${w})`);
  let best = SD_PAPER_PRESETS[0];
  for (const p of SD_PAPER_PRESETS) if (Math.abs(p.guidance - w) < Math.abs(best.guidance - w)) best = p;
  return best.segments.map((s) => [...s] as RestartSegment);
}

export function validateSegment(segment: readonly number[], index = 0): asserts segment is RestartSegment {
  const where = `restart segment ${index + 1}`;
  if (!Array.isArray(segment) || segment.length !== 4) throw new SamplerError(`${where} must be [N_r, K, t_min, t_max]`);
  const [nr, k, tMin, tMax] = segment;
  if (!Number.isInteger(nr) || nr < 2) throw new SamplerError(`${where}: N_r must be a whole number >= 2 (got ${nr})`);
  if (!Number.isInteger(k) || k < 1) throw new SamplerError(`${where}: K must be a whole number >= 1 (got ${k})`);
  if (!Number.isFinite(tMin) || !Number.isFinite(tMax) || !(tMin > 0))
    throw new SamplerError(`${where}: t_min and t_max must be finite and t_min > 0 (got ${tMin}, ${tMax})`);
  if (!(tMax > tMin)) throw new SamplerError(`${where}: t_max (${tMax}) must be greater than t_min (${tMin})`);
}

/** Index of the entry of `grid` nearest to `value`; the first one on ties (torch.argmin). */
function nearestIndex(grid: readonly number[], value: number): number {
  let best = 0;
  for (let i = 1; i < grid.length; i++) if (Math.abs(grid[i] - value) < Math.abs(grid[best] - value)) best = i;
  return best;
}

function mainStep(sigmas: readonly number[], i: number): PlannedStep {
  return { start: sigmas[i], to: sigmas[i + 1], secondOrder: sigmas[i + 1] !== 0, noiseBefore: [] };
}

/**
 * Paper form: after the main step that lands on the grid point nearest t_min, K times jump to t_max
 * and run N_r - 1 Heun steps back down karras(N_r, sigma_m, t_max). Segments that snap to the same
 * grid point all run there, in the order given.
 */
export function planPaperRestart(sigmas: readonly number[], options: RestartOptions): PlannedStep[] {
  checkSigmas(sigmas);
  const segments = options.segments ?? [];
  segments.forEach((s, i) => validateSegment(s, i));
  const sNoise = options.s_noise ?? 1,
    gamma = options.restart_gamma ?? 0,
    rho = options.rho ?? 7;
  const sMin = options.s_min ?? 0,
    sMax = options.s_max ?? Infinity;
  if (!(sNoise >= 0) || !(gamma >= 0)) throw new SamplerError(`s_noise and restart_gamma must be >= 0 (got ${sNoise}, ${gamma})`);
  const last = sigmas.length - 1;
  const byIndex = new Map<number, RestartSegment[]>();
  segments.forEach((segment, n) => {
    const m = nearestIndex(sigmas, segment[2]);
    if (m === 0 || sigmas[m] === 0) {
      throw new SamplerError(
        `restart segment ${n + 1}: t_min ${segment[2]} snaps to sigma ${formatSigma(sigmas[m])}, ` +
          `${m === 0 ? 'the start' : 'the end'} of the schedule; ` +
          `choose a t_min between ${formatSigma(sigmas[last - 1])} and ${formatSigma(sigmas[1])}`,
      );
    }
    if (!(segment[3] > sigmas[m])) {
      throw new SamplerError(
        `restart segment ${n + 1}: t_max ${segment[3]} must be above sigma ${formatSigma(sigmas[m])}, where t_min snaps on this schedule`,
      );
    }
    byIndex.set(m, [...(byIndex.get(m) ?? []), segment]);
  });

  const plan: PlannedStep[] = [];
  for (let i = 0; i < last; i++) {
    plan.push(mainStep(sigmas, i));
    for (const [nr, k, , tMax] of byIndex.get(i + 1) ?? []) {
      const grid = karrasRamp(nr, sigmas[i + 1], tMax, rho, 'divide');
      const jump = sNoise * Math.sqrt(grid[0] ** 2 - grid[nr - 1] ** 2);
      for (let pass = 0; pass < k; pass++) {
        for (let j = 0; j + 1 < nr; j++) {
          const from = grid[j];
          const start = sMin <= from && from <= sMax ? from * (1 + gamma) : from;
          const noiseBefore = j === 0 ? [jump] : [];
          if (start > from) noiseBefore.push(sNoise * Math.sqrt(start ** 2 - from ** 2));
          plan.push({ start, to: grid[j + 1], secondOrder: true, noiseBefore });
        }
      }
    }
  }
  return plan;
}

/**
 * AUTOMATIC1111's step-matched preset: `steps` Heun steps in total. From 20 steps on, part of them
 * become restart passes between t_min = 0.1 and t_max = 2 (both snapped to the rebuilt main grid).
 * Noise is added whenever a step starts above where the previous one ended.
 */
export function planA1111Restart(sigmas: readonly number[], options: RestartOptions): PlannedStep[] {
  checkSigmas(sigmas);
  const sNoise = options.s_noise ?? 1;
  if (!(sNoise >= 0)) throw new SamplerError(`s_noise must be >= 0 (got ${sNoise})`);
  const steps = sigmas.length - 1;
  let main = [...sigmas];
  const pairs: Array<[number, number]> = [];
  let restart: { steps: number; times: number } | undefined;
  if (steps >= 20) {
    restart = steps >= 36 ? { steps: Math.floor(steps / 4), times: 2 } : { steps: 9, times: 1 };
    if (!(sigmas[steps - 1] > 0)) throw new SamplerError('the a1111 Restart preset needs a schedule whose second-to-last sigma is above 0');
    main = [...karrasRamp(steps - restart.steps * restart.times, sigmas[steps - 1], sigmas[0]), 0];
  }
  const minIdx = restart ? nearestIndex(main, 0.1) : -1;
  for (let i = 0; i + 1 < main.length; i++) {
    pairs.push([main[i], main[i + 1]]);
    if (restart && i + 1 === minIdx) {
      const maxIdx = nearestIndex(main, 2);
      if (maxIdx < minIdx) {
        const grid = karrasRamp(restart.steps + 1, main[minIdx], main[maxIdx]);
        for (let pass = 0; pass < restart.times; pass++) {
          for (let j = 0; j + 1 < grid.length; j++) pairs.push([grid[j], grid[j + 1]]);
        }
      }
    }
  }
  // A pass ends on its recomputed karras point, which can sit an ulp away from the main grid
  // point it stands for; such a "jump" has no effect, so it draws no noise (it would only shift the
  // noise stream by one draw, depending on how pow() rounds on the machine).
  let lastEnd: number | undefined;
  return pairs.map(([from, to]) => {
    const jumps = lastEnd !== undefined && from - lastEnd > 1e-12 * from;
    const noiseBefore = jumps ? [sNoise * Math.sqrt(from ** 2 - lastEnd! ** 2)] : [];
    lastEnd = to;
    return { start: from, to, secondOrder: to !== 0, noiseBefore };
  });
}

export function planRestart(sigmas: readonly number[], options: RestartOptions = {}): PlannedStep[] {
  if (options.preset === 'a1111') return planA1111Restart(sigmas, options);
  if (options.preset === 'sd') {
    return planPaperRestart(sigmas, { ...options, segments: sdPresetSegments(options.guidance_scale ?? NaN) });
  }
  if (options.preset !== undefined)
    throw new SamplerError(`unknown Restart preset "${String(options.preset)}" (use a1111 or sd, or give segments)`);
  return planPaperRestart(sigmas, options);
}

export function restartEvaluations(sigmas: readonly number[], options: RestartOptions = {}): number {
  return planRestart(sigmas, options).reduce((n, step) => n + (step.secondOrder ? 2 : 1), 0);
}

export async function sampleRestart(
  model: Denoiser,
  x: Float64Array,
  sigmas: readonly number[],
  ctx: SampleContext,
  options: RestartOptions = {},
): Promise<Float64Array> {
  const plan = planRestart(sigmas, options);
  const D = new GuardedDenoiser(model, ctx);
  x = D.copy(x); // noised and stepped in place
  const work = heunWork(D, x.length);
  for (const [k, step] of plan.entries()) {
    for (const std of step.noiseBefore) addNoise(x, std, ctx);
    const noiseNext = plan[k + 1]?.noiseBefore.some((std) => std > 0) ?? false;
    const denoised = await heunStep(D, x, step.start, step.to, step.secondOrder, work, noiseNext);
    D.report({ totalSteps: plan.length, sigma: step.start, sigmaNext: step.to, x, denoised });
  }
  return D.result(x);
}

/**
 * Restart's plan as LinearSteps: each step's noise (the jump, the churn) added at the end of the step before it.
 * Undefined for a plan that adds noise before its first step (no plan made here does), which runs on the host.
 */
export function restartLinearSteps(sigmas: readonly number[], options: RestartOptions = {}): LinearStep[] | undefined {
  const plan = planRestart(sigmas, options);
  if (plan[0].noiseBefore.some((std) => std > 0)) return undefined;
  return plan.flatMap((step, k) => heunLinearStep(step.start, step.to, step.secondOrder, plan[k + 1]?.noiseBefore ?? []));
}
