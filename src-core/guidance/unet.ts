// The one thing the model side must provide: a UNet call on a batch. The ONNX pipeline implements
// it over an InferenceSession; tests implement it in a few lines.

/**
 * Float values as float32, or as IEEE half bit patterns: an fp16 UNet's own form, which saves converting its input
 * and its output at every step.
 */
export type UNetFloats = Float32Array | Uint16Array;

export interface UNetBatch {
  /** Scaled latents c_in * x, [batch, channels, height, width], batch-major (half bit patterns for a `halves` call). */
  sample: UNetFloats;
  batch: number;
  /** Fractional training timestep, the same for the whole batch. */
  timestep: number;
  /** Text encoder states, [batch, tokens, hidden]. */
  encoderHiddenStates: Float32Array;
  /** SDXL: the pooled text vector, [batch, pooled width], and the size/crop micro-conditioning, [batch, 6]. */
  textEmbeds?: Float32Array;
  timeIds?: Float32Array;
  /**
   * Where the call may write the model output, shaped and typed like `sample` (a preallocated output tensor). The
   * call returns this array when it did.
   */
  output?: UNetFloats;
}

/**
 * Returns the model output (eps or v) shaped like `sample` and in its form (half bit patterns for a Uint16Array). The
 * batch object and its arrays are reused by the next call.
 */
export type UNetCall = ((input: UNetBatch) => Promise<UNetFloats>) & {
  /** The UNet runs in float16: it takes and gives half bit patterns as they are. */
  halves?: boolean;
  /** Frees what the call holds for its run (inputs kept on the GPU); a later call sets them up again. */
  release?: () => void;
  /** A sampling run's latents on the UNet's device (WebGPU), where the model keeps them there; absent otherwise. */
  onDevice?: (rows: number, guided: boolean) => DeviceLatents;
};

/**
 * One guided evaluation and one linear sampler step (LinearStep), with c_in, c_skip, c_out of the evaluation's sigma
 * and c_in of the next one's: D = cSkip Y + cOut (u + scale (c - u)) (u, c: the UNet's two halves; its whole output
 * when unguided; Y the evaluation point), X <- x X + point Y + denoised D + previous D_prev + noise z, the next point
 * Y <- next (as LinearStep's) or the new X, and the UNet's next input cInNext Y.
 */
export interface StepCoefficients {
  scale: number;
  cSkip: number;
  cOut: number;
  x: number;
  point: number;
  denoised: number;
  previous: number;
  noise: number;
  next?: { x: number; point: number; denoised: number };
  cInNext: number;
}

/**
 * The latents of one sampling run held on a device, in the device's precision (float32 for WebGPU): the samplers'
 * arithmetic runs there too, and only the scalars of each step (and fresh noise) go up. Nothing waits for the device
 * between two steps unless the caller asks (firstNotFinite, read), so the host queues the next step while the device
 * works. Holds device memory until release().
 */
export interface DeviceLatents {
  /** Puts the start latent x on the device, with the UNet's first input (cIn x, twice when guided); x is the first point. */
  start(x: Float64Array, cIn: number): Promise<void>;
  /**
   * Queues the UNet on its input (`input`'s timestep and prompt states; its sample is ignored), then the step; it
   * returns without waiting for the device, which may still be working on earlier steps.
   */
  step(input: UNetBatch, coefficients: StepCoefficients, noise?: Float64Array): Promise<void>;
  /**
   * Waits for the steps queued so far; the first of them (counted from 0 since start) whose D held a NaN or an
   * infinity, with such a value, or undefined when all were finite.
   */
  firstNotFinite(): Promise<{ step: number; value: number } | undefined>;
  /** The latent, the last step's estimate D or the one before it, read back (waits for the device). */
  read(which: 'x' | 'denoised' | 'previous'): Promise<Float64Array>;
  release(): void;
}

/** One prompt's text encoder output, [tokens, hidden] for a single prompt. */
export interface TextConditioning {
  states: Float32Array;
  tokens: number;
  hidden: number;
  /** SDXL: text_encoder_2's pooled, projected vector (text_embeds) of the prompt's first chunk. */
  pooled?: Float32Array;
}

export type PredictionType = 'epsilon' | 'v_prediction';
