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
};

/** One prompt's text encoder output, [tokens, hidden] for a single prompt. */
export interface TextConditioning {
  states: Float32Array;
  tokens: number;
  hidden: number;
  /** SDXL: text_encoder_2's pooled, projected vector (text_embeds) of the prompt's first chunk. */
  pooled?: Float32Array;
}

export type PredictionType = 'epsilon' | 'v_prediction';
