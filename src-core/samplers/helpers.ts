// The few formulas the samplers share (the ancestral split, the Heun step, fresh noise; their loops over the latent
// are kernels) and the guard that counts evaluations, honours cancellation and rejects non-finite model output.
import {
  NonFiniteOutput,
  SamplerError,
  SamplingCancelled,
  type Denoiser,
  type NoiseSampler,
  type SampleContext,
  type StepInfo,
} from './types.ts';
import { allFinite, axpy, eulerStep, heunCorrect, heunPredict } from '../kernels/latent-kernels.ts';
import { inWorkspace } from '../kernels/kernel-memory.ts';

// The loops over the latent are kernels (kernels/latent-kernels.ts): the Euler step is x += (sigmaTo - sigma) * d
// with k-diffusion's d = (x - D) / sigma, in one pass.
export { eulerStep };

/** Split a step s -> s' into a deterministic part down to sDown and fresh noise of std sUp. */
export function ancestralStep(sigma: number, sigmaNext: number, eta: number): { sDown: number; sUp: number } {
  if (eta === 0 || sigmaNext === 0) return { sDown: sigmaNext, sUp: 0 };
  const sUp = Math.min(sigmaNext, eta * Math.sqrt((sigmaNext ** 2 * (sigma ** 2 - sigmaNext ** 2)) / sigma ** 2));
  return { sDown: Math.sqrt(sigmaNext ** 2 - sUp ** 2), sUp };
}

/**
 * Add std * z to x in place, drawing z only when it has an effect. An SDE sampler names the step's `interval` (its
 * sigma and the sigma it steps to): z is then the run's interval noise where it has one.
 */
export function addNoise(x: Float64Array, std: number, ctx: SampleContext, interval?: readonly [number, number]): void {
  if (!(std > 0)) return;
  const z = interval && ctx.intervalNoise ? ctx.intervalNoise(interval[0], interval[1]) : nextDraw(ctx.noise, x.length);
  if (z.length !== x.length) throw new SamplerError(`noise source returned ${z.length} values for a latent of ${x.length}`);
  axpy(x, std, z, x); // added to x right away: a borrowed draw needs no copy
}

/**
 * A LinearStep's noise: a draw per std above 0, in order, summed with those weights; undefined where nothing is drawn.
 * (A borrowed draw is valid only until the next one: the sum is an array of its own.)
 */
export function linearStepNoise(noise: NoiseSampler, stds: readonly number[], length: number): Float64Array | undefined {
  let sum: Float64Array | undefined;
  for (const std of stds) {
    if (!(std > 0)) continue;
    sum ??= new Float64Array(length);
    axpy(sum, std, nextDraw(noise, length), sum);
  }
  return sum;
}

/** The noise's next draw for a latent of `length` values, borrowed where it can be: use it before the next draw. */
export function nextDraw(noise: NoiseSampler, length: number): Float64Array {
  const z = noise.borrow?.() ?? noise();
  if (z.length !== length) throw new SamplerError(`noise source returned ${z.length} values for a latent of ${length}`);
  return z;
}

/**
 * Wraps the denoiser for one sampling run: checks cancellation before every evaluation, counts
 * evaluations, and turns NaN/Inf output into an error that names the step and sigma.
 */
export class GuardedDenoiser {
  evaluations = 0;
  step = 0;
  private arrays = 0;

  constructor(
    private readonly model: Denoiser,
    private readonly ctx: SampleContext,
  ) {}

  /**
   * D(x, sigma). `noiseNext`: the sampler draws noise after this evaluation, which the noise thread then draws while the
   * model runs (a 4x64x64 draw costs about 0.5 ms, and the UNet's run blocks the main thread); an SDE sampler names the
   * interval it will ask the run's interval noise for (a Brownian tree's answer costs about 15 ms there).
   */
  async call(x: Float64Array, sigma: number, noiseNext: boolean | readonly [number, number] = false): Promise<Float64Array> {
    if (this.ctx.signal?.aborted) throw new SamplingCancelled();
    // A denoiser that checks its own output (checksFinite) throws NonFiniteOutput; the guard checks any other's.
    let out: Float64Array | NonFiniteOutput;
    try {
      const running = this.model(x, sigma);
      if (Array.isArray(noiseNext) && this.ctx.intervalNoise) this.ctx.intervalNoise.prefetch?.(noiseNext[0], noiseNext[1]);
      else if (noiseNext && !this.ctx.intervalNoise) this.ctx.noise.prefetch?.();
      out = await running;
    } catch (error) {
      if (!(error instanceof NonFiniteOutput)) throw error;
      out = error;
    }
    this.evaluations++;
    if (this.ctx.signal?.aborted) throw new SamplingCancelled();
    if (out instanceof Float64Array && out.length !== x.length) {
      throw new SamplerError(`denoiser returned ${out.length} values for a latent of ${x.length} (step ${this.step}, sigma ${sigma})`);
    }
    if (out instanceof Float64Array && !this.model.checksFinite && !allFinite(out)) out = new NonFiniteOutput(out);
    if (out instanceof NonFiniteOutput) throw notFiniteAt(out.value, this.step, sigma);
    this.ctx.onEvaluation?.(sigma);
    return out;
  }

  /** An array for this run (its values unset), in the denoiser's workspace where it has one: stepped there in place. */
  array(length: number): Float64Array {
    return this.model.runArray?.(length, this.arrays++) ?? new Float64Array(length);
  }

  /** A copy of x for the run to update in place: the caller's array stays as it was. */
  copy(x: Float64Array): Float64Array {
    const copy = this.array(x.length);
    copy.set(x);
    return copy;
  }

  /** The run's result as an array of the caller's own: a workspace's is copied out, as the denoiser's next run reuses it. */
  result(x: Float64Array): Float64Array {
    return inWorkspace(x) ? Float64Array.from(x) : x;
  }

  /** Report a finished step to the caller and advance the step counter. */
  report(info: Omit<StepInfo, 'step'>): void {
    this.ctx.onStep?.({ step: this.step, ...info });
    this.step++;
  }
}

export function formatSigma(sigma: number): string {
  return Number(sigma.toPrecision(6)).toString();
}

/**
 * The error for a model output holding a NaN or an infinity (`value`, the first), naming the step and sigma, and
 * what usually causes it, for the person who only sees the message.
 */
export function notFiniteAt(value: number, step: number, sigma: number): SamplerError {
  return new SamplerError(
    `model output is not finite (${value}) at step ${step}, sigma ${formatSigma(sigma)}: ` +
      'the model file may hold broken weights (NaN), an fp16 model may overflow, or a prompt or LoRA weight is too large',
  );
}

/** The arrays one Heun step works in, allocated once per run. */
export interface HeunWork {
  slope: Float64Array;
  xEuler: Float64Array;
}

export const heunWork = (D: GuardedDenoiser, length: number): HeunWork => ({ slope: D.array(length), xEuler: D.array(length) });

/**
 * One Heun step from sigma to sigmaNext (Euler when sigmaNext is 0 or secondOrder is off), updating x in
 * place. Returns the first denoised estimate (for previews). `noiseNext`: noise is drawn after the step (GuardedDenoiser.call).
 */
export async function heunStep(
  model: GuardedDenoiser,
  x: Float64Array,
  sigma: number,
  sigmaNext: number,
  secondOrder: boolean,
  work: HeunWork,
  noiseNext = false,
): Promise<Float64Array> {
  const euler = sigmaNext === 0 || !secondOrder;
  const denoised = await model.call(x, sigma, noiseNext && euler);
  const dt = sigmaNext - sigma;
  if (euler) {
    eulerStep(x, sigma, denoised, sigmaNext);
    return denoised;
  }
  heunPredict(x, denoised, sigma, dt, work.slope, work.xEuler);
  heunCorrect(x, work.xEuler, await model.call(work.xEuler, sigmaNext, noiseNext), work.slope, sigmaNext, dt);
  return denoised;
}

/** Checks a sigma schedule: at least two entries, finite, non-negative, strictly descending. */
export function checkSigmas(sigmas: readonly number[]): void {
  if (sigmas.length < 2) throw new SamplerError('a sigma schedule needs at least one step (two sigmas)');
  for (let i = 0; i < sigmas.length; i++) {
    const s = sigmas[i];
    if (!Number.isFinite(s) || s < 0) throw new SamplerError(`sigma ${i} is ${s}; sigmas must be finite and >= 0`);
    if (i > 0 && !(s < sigmas[i - 1]))
      throw new SamplerError(`sigmas must strictly decrease (sigma ${i - 1} = ${sigmas[i - 1]}, sigma ${i} = ${s})`);
  }
}
