// The vocabulary every sampler shares. A latent is a flat Float64Array (batch-major, the shape lives
// with whoever calls the model); samplers only ever do element-wise work on it.

/**
 * Estimate of the clean latent at noise level sigma (k-diffusion's "denoiser" D(x, sigma)). The pipeline's
 * denoiser reuses its output arrays: a result stays valid until the call after next, so a sampler may keep
 * the previous estimate (DPM++ 2M, Heun) but must copy anything it keeps longer.
 */
export type Denoiser = ((x: Float64Array, sigma: number) => Promise<Float64Array>) & {
  /**
   * The denoiser checks its own output, throwing NonFiniteOutput for a NaN or an infinity (the pipeline's does it in
   * the pass that computes D): the samplers' guard then does not scan it again.
   */
  checksFinite?: boolean;
  /**
   * Array k (from 0) of a sampling run over latents of `length` values, in the memory the denoiser's kernels work in
   * (kernels/kernel-memory.ts), so that the run's steps on it need no copies; undefined where there is none. The next
   * run reuses it, and its values are whatever its last user left (GuardedDenoiser.array and .result use it).
   */
  runArray?: (length: number, k: number) => Float64Array | undefined;
  /**
   * Hands the denoiser's workspace on to later denoisers, once its job is over and nothing holds its arrays (a fresh
   * one costs about 2 ms); a later call takes one again.
   */
  release?: () => void;
  /**
   * Runs a whole sampling run on the model's device (WebGPU), where the latent stays between steps: for samplers whose
   * every step is linear (LinearStep). Absent where the model keeps nothing on a device.
   */
  onDevice?: (x: Float64Array, steps: readonly LinearStep[], ctx: SampleContext) => Promise<Float64Array>;
  /** A sampling run starts (runSampler): a denoiser that counts its evaluations (prompt editing) counts from 0 again. */
  beginRun?: () => void;
};

/**
 * One evaluation of a sampler whose steps are fixed linear combinations (Euler, Euler a, DPM++ 2M, Heun, Restart),
 * over two arrays: the latent X and the point Y the model is evaluated at (X itself, unless the last evaluation moved
 * it: Heun's second evaluation is at its Euler prediction). With D = D(Y, sigma) and D_prev the last evaluation's:
 *   X <- x X + point Y + denoised D + previous D_prev + the noise,
 *   Y <- next.x X + next.point Y + next.denoised D (the old X and Y), or the new X where there is no `next`.
 * The noise is one fresh draw z_i per std s_i of `noise` (drawn only where s_i > 0, in order, as the sampler draws
 * them), sum s_i z_i. Written from the sampler's own formulas, so that a device can run the steps without its code.
 */
export interface LinearStep {
  sigma: number;
  x: number;
  point: number;
  denoised: number;
  previous: number;
  noise: readonly number[];
  next?: { x: number; point: number; denoised: number };
  /**
   * Set on the evaluation that ends a step of the sampler, for onStep: the step's sigmas, and its estimate (the
   * sampler's reported D: this evaluation's, or the previous one's for Heun's steps).
   */
  ends?: { sigma: number; sigmaNext: number; estimate: 'denoised' | 'previous' };
}

/**
 * Returns a fresh standard-normal tensor shaped like the latent (torch's randn_like). `prefetch` draws the next one
 * ahead, for the next call to return: the values and their order stay the same. (The engine's noise thread draws it
 * while the UNet runs, noise/noise-thread.ts; on the main thread it only moves the draw, as a UNet run blocks that thread.)
 */
export type NoiseSampler = (() => Float64Array) & {
  prefetch?: () => void;
  /**
   * The next draw, as noise() gives it, but perhaps in memory the sampler shares with its source: valid only until the
   * next draw is asked for (prefetch, noise, borrow). For a caller that uses it at once (adding it to the latent).
   */
  borrow?: () => Float64Array;
};

export interface StepInfo {
  /** 0-based index of the step in execution order (restart passes included). */
  step: number;
  /** Total steps the sampler will take, known before it starts. */
  totalSteps: number;
  sigma: number;
  sigmaNext: number;
  /** Valid during the callback: samplers update x in place and the denoiser reuses its outputs (copy to keep). */
  x: Float64Array;
  denoised: Float64Array;
}

/**
 * Noise for a step from sigma to sigmaNext: one standard normal value per latent value (SampleContext.intervalNoise).
 * `prefetch` asks for an interval ahead (the engine's noise thread answers it while the UNet runs); the answer is the same.
 */
export type IntervalNoise = ((sigma: number, sigmaNext: number) => Float64Array) & {
  prefetch?: (sigma: number, sigmaNext: number) => void;
};

export interface SampleContext {
  noise: NoiseSampler;
  /**
   * The noise of a step from sigma to sigmaNext, one standard normal value per latent value (k-diffusion's
   * noise_sampler(sigma, sigma_next)): where the run gives one (A1111's Brownian trees for the SDE samplers,
   * noise/brownian-noise.ts), the SDE samplers draw from it instead of `noise`.
   */
  intervalNoise?: IntervalNoise;
  onStep?: (info: StepInfo) => void;
  /** After every model evaluation the sampler accepted (finite, not cancelled): progress per evaluation. */
  onEvaluation?: (sigma: number) => void;
  signal?: AbortSignal;
  /**
   * Whether onStep wants this step's arrays (the app's previews come at most every 50 ms): a run on a device asks at
   * its checks only and reads them back only then. Absent: every step.
   */
  stepDue?: () => boolean;
}

export class SamplingCancelled extends Error {
  constructor() {
    super('generation cancelled');
    this.name = 'SamplingCancelled';
  }
}

export class SamplerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SamplerError';
  }
}

/** A denoiser's output held a NaN or an infinity, `value` the first one; the samplers' guard adds the step and sigma. */
export class NonFiniteOutput extends SamplerError {
  readonly value: number;

  constructor(output: Float64Array) {
    const value = output.find((v) => !Number.isFinite(v))!;
    super(`model output is not finite (${value})`);
    this.name = 'NonFiniteOutput';
    this.value = value;
  }
}
