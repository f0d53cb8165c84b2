// Running the three networks of a loaded model: prompt -> states, UNet batches, latents -> pixels.
// Each run adds its session.run time to a Timings record, so engine overhead can be measured.
import * as ort from 'onnxruntime-node';
import { RequestError } from '../contract/generate.ts';
import type { UNetBatch, UNetCall } from '../guidance/unet.ts';
import type { StableDiffusionModel } from '../model/model.ts';
import { floatTensor, readFloats, type FloatType } from '../model/tensors.ts';
import { FloatFeed, OutputFeed, ResidentInputs, TimestepFeed } from './unet-feeds.ts';
import { DeviceLatentRun } from './device-latents.ts';
import type { TextEncoderPart } from '../model/text-encoders.ts';
import { embeddingsFor } from '../adapters/embedding-tokens.ts';
import { encodeWeightedPrompt, type EmphasisMode, type PromptEncoding } from '../prompt/encode.ts';
import { encodeJoinedEmptyChunk, encodeJoinedPrompt, type EncoderRun } from '../prompt/joined.ts';
import { encodeJoinedGroup, encodeWeightedGroup } from '../prompt/encode-group.ts';
import { applyLayerNorm, clipSkipEncoders } from '../model/clip-skip.ts';

export interface Timings {
  textEncoderMs: number;
  /** The UNet's runs; for a run kept on the device (whose UNet runs may return once queued), its waits for the device too. */
  unetMs: number;
  vaeMs: number;
  unetCalls: number;
  /** Whether the provider wrote the UNet output into the denoiser's array (OutputFeed); unset where none was offered. */
  unetOutputInPlace?: boolean;
  /** Whether the UNet's per-run inputs (prompt states) were fed from the device (ResidentInputs); unset where it keeps none. */
  unetInputsOnDevice?: boolean;
  /** Whether a sampling run kept its latent on the device (pipeline/device-latents.ts); unset where none did. */
  latentOnDevice?: boolean;
  /** The step graphs' run time of such runs (guidance and the sampler's step, on the device), in ms. */
  deviceStepMs?: number;
}

export const newTimings = (): Timings => ({ textEncoderMs: 0, unetMs: 0, vaeMs: 0, unetCalls: 0 });

async function timed<T>(work: () => Promise<T>, add: (ms: number) => void): Promise<T> {
  const t0 = performance.now();
  try {
    return await work();
  } finally {
    add(performance.now() - t0);
  }
}

/** One chunk's token ids as a text encoder's [1, tokens] input_ids tensor of its integer type. */
function inputIdsTensor(type: 'int32' | 'int64', ids: Int32Array): ort.Tensor {
  const dims = [1, ids.length];
  return type === 'int32'
    ? new ort.Tensor('int32', Int32Array.from(ids), dims)
    : new ort.Tensor(
        'int64',
        BigInt64Array.from(ids, (v) => BigInt(v)),
        dims,
      );
}

/**
 * One chunk of token ids (the text encoder's length) through the (first) text encoder: its raw [tokens, hidden] states,
 * from the layer `clipSkip` from the end (A1111's Clip skip, SD 1.x; 1: the last).
 */
export async function runTextEncoder(model: StableDiffusionModel, ids: Int32Array, timings: Timings, clipSkip = 1): Promise<Float32Array> {
  return (await runTextEncoderPart(clipSkipEncoders(model, clipSkip)[0], ids, timings)).states;
}

/** One chunk through one text encoder (SDXL has two): the states it conditions with, and its pooled vector if it has one. */
export async function runTextEncoderPart(
  part: TextEncoderPart,
  ids: Int32Array,
  timings: Timings,
): Promise<{ states: Float32Array; pooled?: Float32Array }> {
  const tokens = ids.length;
  const input = inputIdsTensor(part.inputType, ids);
  const outputs = part.pooled ? [part.statesOutput, part.pooled.output] : [part.statesOutput];
  const out = await timed(
    () => part.session.session.run({ input_ids: input }, outputs),
    (ms) => {
      timings.textEncoderMs += ms;
    },
  );
  const states = readFloats(out[part.statesOutput], `${part.component} ${part.statesOutput}`);
  if (states.length !== tokens * part.hidden)
    throw new Error(`${part.component} returned ${states.length} values, expected ${tokens} x ${part.hidden}`);
  const own = Float32Array.from(states);
  // Clip skip: an earlier layer's states, through the final layer norm that last_hidden_state has had.
  if (part.finalNorm) applyLayerNorm(own, part.hidden, part.finalNorm);
  if (!part.pooled) return { states: own };
  const pooled = readFloats(out[part.pooled.output], `${part.component} ${part.pooled.output}`);
  if (pooled.length !== part.pooled.width)
    throw new Error(`${part.component} returned ${pooled.length} pooled values, expected ${part.pooled.width}`);
  return { states: own, pooled: Float32Array.from(pooled) };
}

function encoderRuns(model: StableDiffusionModel, timings: Timings): EncoderRun[] {
  return model.textEncoders.map((part) => ({
    tokenizer: part.tokenizer,
    hidden: part.hidden,
    run: (ids) => runTextEncoderPart(part, ids, timings),
  }));
}

/**
 * A prompt with A1111's emphasis and 75-token chunks, encoded and weighted (see prompt/encode.ts; SDXL: prompt/joined.ts).
 * `clipSkip`: A1111's Clip skip (SD 1.x, model/clip-skip.ts).
 */
export function encodePrompt(
  model: StableDiffusionModel,
  prompt: string,
  emphasis: EmphasisMode,
  timings: Timings,
  clipSkip = 1,
): Promise<PromptEncoding> {
  const { tokens, textHidden } = model.info;
  // Textual-inversion embeddings the prompt names take the ids of the adapted text encoder's extra rows.
  const options = { chunkTokens: tokens - 2, embeddings: embeddingsFor(model) };
  if (model.textEncoders.length > 1) return encodeJoinedPrompt(encoderRuns(model, timings), prompt, emphasis, options);
  const part = clipSkipEncoders(model, clipSkip)[0];
  const run = async (ids: Int32Array) => (await runTextEncoderPart(part, ids, timings)).states;
  return encodeWeightedPrompt(model.tokenizer, prompt, emphasis, run, textHidden, options);
}

/** The texts of one prompt's schedule, encoded together as A1111 encodes them (prompt/encode-group.ts). */
export function encodePromptGroup(
  model: StableDiffusionModel,
  texts: readonly string[],
  emphasis: EmphasisMode,
  timings: Timings,
  clipSkip = 1,
): Promise<PromptEncoding[]> {
  const options = { chunkTokens: model.info.tokens - 2, embeddings: embeddingsFor(model) };
  if (model.textEncoders.length > 1) return encodeJoinedGroup(encoderRuns(model, timings), texts, emphasis, options);
  const part = clipSkipEncoders(model, clipSkip)[0];
  return encodeWeightedGroup(
    model.tokenizer,
    texts,
    emphasis,
    (ids) => runTextEncoderPart(part, ids, timings),
    model.info.textHidden,
    options,
  );
}

/** The empty prompt's chunk, through every text encoder of an SDXL model. */
export function encodeEmptyChunkOf(model: StableDiffusionModel, timings: Timings): Promise<PromptEncoding> {
  return encodeJoinedEmptyChunk(encoderRuns(model, timings), { chunkTokens: model.info.tokens - 2 });
}

/**
 * The UNet over one latent size. The array it returns is reused by its next call (a float16 model given float32), as
 * its input tensors are. A float16 model's call is `halves`: a sample of half bit patterns goes in as it is, and the
 * output comes back as the model's own half bit patterns (no conversion either way).
 */
export function unetCall(model: StableDiffusionModel, height: number, width: number, timings: Timings): UNetCall {
  const { latentChannels, textHidden, unetFloat, timestepType, timestepShape } = model.info;
  // The prompt states are the same array at every step of a run: converted to the UNet's dtype once.
  // (onnxruntime-node still copies them to the device each call: ~0.07 ms for SD 1.5 on an H100, see reports/gpu-bench.)
  const states = new FloatFeed(unetFloat),
    latent = new FloatFeed(unetFloat),
    time = new TimestepFeed(timestepType, timestepShape),
    // An output kept on the device (latentsOnDevice) is never a preallocated host array.
    modelOutput = new OutputFeed('out_sample', model.latentsOnDevice ? undefined : outputFloat(model)),
    perRun = new ResidentInputs(model.deviceTensors, ['encoder_hidden_states', 'text_embeds', 'time_ids']);
  const sdxl = model.info.sdxl;
  const textEmbeds = sdxl && new FloatFeed(sdxl.textEmbedsFloat),
    timeIds = sdxl && new FloatFeed(sdxl.timeIdsFloat);
  let output = new Float32Array(0);
  // The inputs that are the same at every step (the same tensors while their arrays are the same).
  const promptFeeds = ({ batch, encoderHiddenStates, textEmbeds: pooled, timeIds: sizes }: UNetBatch) => {
    const feeds: Record<string, ort.Tensor> = {
      encoder_hidden_states: states.of(encoderHiddenStates, [batch, encoderHiddenStates.length / (batch * textHidden), textHidden]),
    };
    if (textEmbeds && timeIds) {
      if (!pooled || !sizes) throw new Error('an SDXL UNet call needs text_embeds and time_ids');
      feeds.text_embeds = textEmbeds.of(pooled, [batch, pooled.length / batch]);
      feeds.time_ids = timeIds.of(sizes, [batch, sizes.length / batch]);
    }
    return feeds;
  };
  const feedsOf = (input: UNetBatch) => ({
    sample: latent.of(input.sample, [input.batch, latentChannels, height, width], true),
    timestep: time.of(input.timestep, input.batch),
    ...promptFeeds(input),
  });
  // A run passes the same arrays at every step: the feeds are built again only when one of them (or the batch)
  // changes, and otherwise just take the new timestep and sample values (this path runs between two UNet calls).
  let fed: (Omit<UNetBatch, 'timestep'> & { feeds: Record<string, ort.Tensor> }) | undefined;
  const call: UNetCall = async (input) => {
    let feeds: Record<string, ort.Tensor>;
    if (fed && sameArrays(fed, input)) {
      feeds = fed.feeds;
      time.of(input.timestep, input.batch);
      latent.refresh();
    } else {
      const { sample, batch, encoderHiddenStates, textEmbeds: pooled, timeIds: sizes } = input;
      feeds = await perRun.of(feedsOf(input));
      timings.unetInputsOnDevice = perRun.onDevice;
      fed = { sample, batch, encoderHiddenStates, textEmbeds: pooled, timeIds: sizes, feeds };
    }
    // Timed here rather than with timed(): this path runs between two UNet calls, a closure and a promise fewer.
    const t0 = performance.now();
    let out: ort.InferenceSession.ReturnType;
    try {
      try {
        out = await model.unet.session.run(feeds, modelOutput.fetches(input.output, feeds.sample.dims));
      } catch (error) {
        // A provider that refuses the preallocated output at its first run is run again without one. (A try, not a
        // .catch on the run: that would add a promise and a microtask to every call.)
        if (!modelOutput.refusedAtFirstRun()) throw error;
        out = await model.unet.session.run(feeds, modelOutput.fetches(input.output, feeds.sample.dims));
      }
    } catch (error) {
      throw explainUnetFailure(model, height, width, error as Error);
    } finally {
      timings.unetMs += performance.now() - t0;
      timings.unetCalls++;
    }
    const result = out.out_sample.location === 'gpu-buffer' ? await onHost(model, out.out_sample) : out.out_sample;
    const written = modelOutput.written(result);
    timings.unetOutputInPlace = modelOutput.inPlace;
    if (written) return written;
    if (result.type === 'float16' && input.sample instanceof Uint16Array) return result.data as Uint16Array;
    if (result.type === 'float16' && output.length !== result.size) output = new Float32Array(result.size);
    return readFloats(result, 'unet out_sample', output);
  };
  call.halves = unetFloat === 'float16';
  const tensors = model.deviceTensors;
  if (model.latentsOnDevice && tensors) {
    // A sampling run on the device: the sample comes from its step graph, the output stays there.
    const onDevice = async (input: UNetBatch, sample: ort.Tensor): Promise<ort.Tensor> => {
      const feeds = await perRun.of(promptFeeds(input));
      timings.unetInputsOnDevice = perRun.onDevice;
      feeds.sample = sample;
      feeds.timestep = time.of(input.timestep, input.batch);
      try {
        const out = await timed(
          () => model.unet.session.run(feeds, ['out_sample']),
          (ms) => {
            timings.unetMs += ms;
            timings.unetCalls++;
          },
        );
        return out.out_sample;
      } catch (error) {
        throw explainUnetFailure(model, height, width, error as Error);
      }
    };
    call.onDevice = (rows, guided) => {
      timings.latentOnDevice = true;
      const stepTime = (ms: number) => void (timings.deviceStepMs = (timings.deviceStepMs ?? 0) + ms);
      // A UNet run may return once queued: the waits for the device count as the UNet's, as its runs are most of them.
      const waitTime = (ms: number) => void (timings.unetMs += ms);
      const latent: [number, number, number] = [latentChannels, height, width];
      return new DeviceLatentRun({ tensors, unetFloat, guided, rows, latent, runUNet: onDevice, stepTime, waitTime });
    };
  }
  call.release = () => {
    perRun.release();
    fed = undefined;
  };
  return call;
}

/** A UNet output the provider kept on its device, read back (and freed there): for runs whose latent is on the host. */
async function onHost(model: StableDiffusionModel, output: ort.Tensor): Promise<ort.Tensor> {
  try {
    return await model.deviceTensors!.download(output);
  } finally {
    output.dispose();
  }
}

/** The UNet output's declared float type (it may differ from the input's), or undefined for anything else. */
function outputFloat(model: StableDiffusionModel): FloatType | undefined {
  const type = model.unet.outputs?.get('out_sample')?.type;
  return type === 'float32' || type === 'float16' ? type : undefined;
}

const sameArrays = (a: Omit<UNetBatch, 'timestep'>, b: UNetBatch) =>
  a.sample === b.sample &&
  a.batch === b.batch &&
  a.encoderHiddenStates === b.encoderHiddenStates &&
  a.textEmbeds === b.textEmbeds &&
  a.timeIds === b.timeIds;

/**
 * UNets exported by tracing (optimum's, torch.onnx) upsample by exactly 2, so a latent side that does not halve
 * evenly at every level fails deep inside the graph (a Concat's "mismatched dimensions"); say so in sizes only:
 * onnxruntime's node names mean nothing to the person who chose the size.
 */
function explainUnetFailure(model: StableDiffusionModel, height: number, width: number, error: Error): Error {
  const { vaeFactor, unetShape } = model.info;
  const cells = 2 ** (unetShape.channels.length - 1),
    step = cells * vaeFactor;
  if (!/Concat|dimension/i.test(error.message) || (height % cells === 0 && width % cells === 0)) return error;
  return new RequestError(
    `this model's UNet takes sizes in multiples of ${step} pixels (it halves the latent ${unetShape.channels.length - 1} ` +
      `times); ${width * vaeFactor}x${height * vaeFactor} is not one`,
  );
}

/**
 * Decodes sampler-space latents (divided by the VAE scaling factor first) to images in [-1, 1],
 * [3, H, W] each. fp16 decoders run one image at a time (batched fp16 VAE output is unreliable).
 */
export async function decodeLatents(
  model: StableDiffusionModel,
  latents: Float64Array,
  batch: number,
  height: number,
  width: number,
  timings: Timings,
): Promise<Float32Array[]> {
  const { latentChannels, scalingFactor, vaeFloat, vaeFactor } = model.info;
  const perImage = latentChannels * height * width;
  const chunk = vaeFloat === 'float16' ? 1 : batch;
  const images: Float32Array[] = [];
  for (let start = 0; start < batch; start += chunk) {
    const n = Math.min(chunk, batch - start);
    const scaled = new Float32Array(n * perImage);
    for (let i = 0; i < scaled.length; i++) scaled[i] = latents[start * perImage + i] / scalingFactor;
    const feeds = { latent_sample: floatTensor(vaeFloat, scaled, [n, latentChannels, height, width]) };
    const out = await timed(
      () => model.vaeDecoder.session.run(feeds, ['sample']),
      (ms) => {
        timings.vaeMs += ms;
      },
    );
    const pixels = readFloats(out.sample, 'vae_decoder sample');
    const perPixels = 3 * height * vaeFactor * width * vaeFactor;
    if (pixels.length !== n * perPixels) throw new Error(`vae_decoder returned ${pixels.length} values, expected ${n} x ${perPixels}`);
    for (let i = 0; i < n; i++) images.push(pixels.subarray(i * perPixels, (i + 1) * perPixels)); // views: read only
  }
  return images;
}
