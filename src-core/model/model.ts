// A diffusers-ONNX Stable Diffusion folder, loaded once: its sessions, and everything the pipeline
// needs, read from the folder's configs and from each session's input/output metadata.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { DiscreteSchedule, ScheduleConfigError, type SchedulerConfig } from '../schedule/discrete.ts';
import type { PredictionType } from '../guidance/unet.ts';
import { loadClipTokenizer, type ClipTokenizer } from '../tokenizer/clip-tokenizer.ts';
import { LIMITS } from '../contract/generate.ts';
import { unetShape, vaeFactorOf, vaeShape, type UNetShape, type VaeShape } from './architecture.ts';
import { configInteger, configNumber, readJson } from './configs.ts';
import { ModelError, ProviderError } from './errors.ts';
import { providerAvailability } from './providers.ts';
import { explainProviderFailure, openComponent, providerCandidates, refuseOutsideLinks, requireNames, type ComponentSession, type ExecutionProvider, type ProviderChoice } from './session.ts';
import { checkDecoderFactor, checkNativeSize, latentSizeOf } from './shape-checks.ts';
import type { FloatType } from './tensors.ts';

export type TimestepType = 'int64' | 'float32' | 'float16';

export interface ModelInfo {
  dir: string;
  name: string;
  prediction: PredictionType;
  /** Latent channels, and the default latent size (sample_size) of the UNet. */
  latentChannels: number;
  latentSize: number;
  /** Pixels per latent cell: 2^(len(vae block_out_channels) - 1). */
  vaeFactor: number;
  scalingFactor: number;
  textHidden: number;
  tokens: number;
  unetFloat: FloatType;
  timestepType: TimestepType;
  /** How the UNet wants its timestep: a scalar, a [1] tensor or one per batch item. */
  timestepShape: 'scalar' | 'single' | 'batch';
  textFloat: FloatType;
  vaeFloat: FloatType;
  textInputType: 'int32' | 'int64';
  /** The networks' shapes from their configs, for memory estimates. */
  unetShape: UNetShape;
  vaeShape: VaeShape;
  /** Bytes of the loaded components' files (graphs and external weights): about what the sessions hold. */
  weightBytes: number;
}

export interface StableDiffusionModel {
  info: ModelInfo;
  schedule: DiscreteSchedule;
  tokenizer: ClipTokenizer;
  textEncoder: ComponentSession;
  unet: ComponentSession;
  vaeDecoder: ComponentSession;
  provider: ExecutionProvider;
  /** Providers tried before `provider` and why each could not be used (empty when the first worked). */
  fallbacks: Array<{ provider: ExecutionProvider; reason: string }>;
  dispose(): Promise<void>;
}

function floatTypeOf(c: ComponentSession, input: string): FloatType {
  const type = c.inputs.get(input)!.type;
  if (type !== 'float32' && type !== 'float16') throw new ModelError(c.component, `input "${input}" has type ${type}; float32 or float16 expected`);
  return type;
}

function lastDim(shape: ReadonlyArray<number | string>): number | undefined {
  const d = shape[shape.length - 1];
  return typeof d === 'number' && d > 0 ? d : undefined;
}

function folderBytes(folder: string): number {
  return readdirSync(folder, { withFileTypes: true }).reduce((sum, entry) => (entry.isFile() ? sum + statSync(join(folder, entry.name)).size : sum), 0);
}

/**
 * Loads a model folder. `provider` 'auto' picks the best execution provider this machine can load
 * (CUDA, DirectML, Core ML, WebGPU, then CPU); an explicit one falls back to CPU. Every fallback is
 * recorded with its reason in `fallbacks`.
 */
export async function loadModel(dirArg: string, options: { provider?: ProviderChoice } = {}): Promise<StableDiffusionModel> {
  const candidates = providerCandidates(options.provider ?? 'cpu');
  const fallbacks: Array<{ provider: ExecutionProvider; reason: string }> = [];
  for (const [i, provider] of candidates.entries()) {
    // An explicit choice whose libraries are missing falls back with the reason, without a noisy try.
    const unusable = providerAvailability().find((p) => p.name === provider && !p.available);
    if (unusable && i < candidates.length - 1) {
      fallbacks.push({ provider, reason: unusable.reason ?? `${provider} is not available` });
      continue;
    }
    try {
      const model = await loadWithProvider(dirArg, provider);
      model.fallbacks.push(...fallbacks);
      return model;
    } catch (error) {
      // A problem with the folder itself is a ModelError; only provider failures fall back.
      if (!(error instanceof ProviderError) || i === candidates.length - 1) throw error;
      fallbacks.push({ provider, reason: explainProviderFailure(provider, error.message) });
    }
  }
  throw new ModelError('model', 'no execution provider could load this model');
}

async function loadWithProvider(dirArg: string, provider: ExecutionProvider): Promise<StableDiffusionModel> {
  const dir = resolve(dirArg);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new ModelError('model', `${dir} is not a folder`);
  readJson(dir, 'model_index.json', 'model', true);
  for (const component of ['scheduler', 'tokenizer']) if (existsSync(join(dir, component))) refuseOutsideLinks(dir, component);

  const schedulerConfig = readJson(dir, 'scheduler/scheduler_config.json', 'scheduler')!;
  let schedule: DiscreteSchedule;
  try {
    schedule = new DiscreteSchedule(schedulerConfig as SchedulerConfig);
  } catch (error) {
    if (error instanceof ScheduleConfigError) throw new ModelError('scheduler', error.message);
    throw error;
  }
  const prediction = (schedulerConfig.prediction_type ?? 'epsilon') as string;
  if (prediction !== 'epsilon' && prediction !== 'v_prediction') {
    throw new ModelError('scheduler', `prediction_type "${prediction}" is not supported (epsilon or v_prediction)`);
  }

  const unetConfig = readJson(dir, 'unet/config.json', 'unet', false);
  const vaeConfig = readJson(dir, 'vae_decoder/config.json', 'vae_decoder', false);
  const textConfig = readJson(dir, 'text_encoder/config.json', 'text_encoder', false);
  const unetArchitecture = unetShape(unetConfig);
  const vaeArchitecture = vaeShape(vaeConfig);
  const vaeFactor = vaeFactorOf(vaeArchitecture);
  // Not used for sizes (the UNet's sample_size is), but a value no image can have is a broken config.
  configInteger(vaeConfig, 'sample_size', 1, 'vae_decoder', LIMITS.imageSide);

  let tokenizer: ClipTokenizer;
  try {
    tokenizer = await loadClipTokenizer(resolve(dir, 'tokenizer'));
  } catch (error) {
    throw new ModelError('tokenizer', (error as Error).message);
  }

  const opened: ComponentSession[] = [];
  const open = async (component: string) => {
    const c = await openComponent(dir, component, provider);
    opened.push(c);
    return c;
  };
  try {
    const textEncoder = await open('text_encoder');
    requireNames(textEncoder, ['input_ids'], ['last_hidden_state']);
    const textInput = textEncoder.inputs.get('input_ids')!.type;
    if (textInput !== 'int32' && textInput !== 'int64') throw new ModelError('text_encoder', `input_ids has type ${textInput}; int32 or int64 expected`);
    const unet = await open('unet');
    requireNames(unet, ['sample', 'timestep', 'encoder_hidden_states'], ['out_sample']);
    const unetFloat = floatTypeOf(unet, 'sample');
    const vaeDecoder = await open('vae_decoder');
    requireNames(vaeDecoder, ['latent_sample'], ['sample']);

    const textHidden = lastDim(textEncoder.outputs.get('last_hidden_state')!.shape) ?? configInteger(textConfig, 'hidden_size', 0, 'text_encoder');
    const unetHidden = lastDim(unet.inputs.get('encoder_hidden_states')!.shape) ?? configInteger(unetConfig, 'cross_attention_dim', textHidden, 'unet');
    if (textHidden !== unetHidden) {
      throw new ModelError('unet', `the text encoder produces ${textHidden}-wide states but the UNet expects ${unetHidden} (mismatched components?)`);
    }
    const sampleShape = unet.inputs.get('sample')!.shape;
    const latentChannels = typeof sampleShape[1] === 'number' ? sampleShape[1] : configInteger(unetConfig, 'in_channels', 4, 'unet', 64);
    const decoderChannels = vaeDecoder.inputs.get('latent_sample')!.shape[1];
    if (typeof decoderChannels === 'number' && decoderChannels !== latentChannels) {
      throw new ModelError('vae_decoder', `decodes ${decoderChannels}-channel latents but the UNet makes ${latentChannels}-channel ones`);
    }
    const timestep = unet.inputs.get('timestep')!;
    if (timestep.type !== 'int64' && timestep.type !== 'float32' && timestep.type !== 'float16') {
      throw new ModelError('unet', `timestep input has type ${timestep.type}; int64, float32 or float16 expected`);
    }
    const latentSize = latentSizeOf(unet, unetConfig?.sample_size === undefined ? undefined : configInteger(unetConfig, 'sample_size', 64, 'unet', LIMITS.imageSide));
    checkNativeSize(latentSize, vaeFactor);
    const vaeFloat = floatTypeOf(vaeDecoder, 'latent_sample');
    await checkDecoderFactor(vaeDecoder, { vaeFactor, blocks: vaeArchitecture.channels.length, latentChannels, latentSize, float: vaeFloat });
    const tokens = typeof textEncoder.inputs.get('input_ids')!.shape[1] === 'number' ? (textEncoder.inputs.get('input_ids')!.shape[1] as number) : tokenizer.maxLength;

    const info: ModelInfo = {
      dir,
      name: basename(dir),
      prediction,
      latentChannels,
      latentSize,
      vaeFactor,
      scalingFactor: configNumber(vaeConfig, 'scaling_factor', 0.18215, 'vae_decoder'),
      textHidden,
      tokens,
      unetFloat,
      timestepType: timestep.type,
      timestepShape: timestep.shape.length === 0 ? 'scalar' : timestep.shape[0] === 1 ? 'single' : 'batch',
      textFloat: textEncoder.outputs.get('last_hidden_state')!.type === 'float16' ? 'float16' : 'float32',
      vaeFloat,
      textInputType: textInput,
      unetShape: unetArchitecture,
      vaeShape: vaeArchitecture,
      weightBytes: ['text_encoder', 'unet', 'vae_decoder'].reduce((sum, component) => sum + folderBytes(join(dir, component)), 0),
    };
    return {
      info, schedule, tokenizer, textEncoder, unet, vaeDecoder, provider, fallbacks: [],
      dispose: async () => { await Promise.all(opened.map((c) => c.session.release())); },
    };
  } catch (error) {
    await Promise.all(opened.map((c) => c.session.release().catch(() => undefined)));
    throw error;
  }
}
