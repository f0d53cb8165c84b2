// A diffusers-ONNX Stable Diffusion folder, loaded once: its sessions, and everything the pipeline
// needs, read from the folder's configs and from each session's input/output metadata.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { DiscreteSchedule, ScheduleConfigError, type SchedulerConfig } from '../schedule/discrete.ts';
import type { PredictionType } from '../guidance/unet.ts';
import type { ClipTokenizer } from '../tokenizer/clip-tokenizer.ts';
import { LIMITS } from '../contract/generate.ts';
import { unetShape, vaeFactorOf, vaeShape, type UNetShape, type VaeShape } from './architecture.ts';
import { configInteger, configNumber, readJson } from './configs.ts';
import { ModelError, ProviderError } from './errors.ts';
import { providerAvailability } from './providers.ts';
import {
  explainProviderFailure,
  firstLine,
  openComponent,
  openComponentBytes,
  providerCandidates,
  refuseOutsideLinks,
  requireNames,
  type ComponentSession,
  type ExecutionProvider,
  type OutputPlace,
  type ProviderChoice,
} from './session.ts';
import { checkDecoderFactor, checkNativeSize, latentSizeOf } from './shape-checks.ts';
import type { FloatType } from './tensors.ts';
import { describeTextEncoder, lastDim, loadTokenizer, type TextEncoderPart } from './text-encoders.ts';
import { isSdxlFolder, refuseRefiner, sdxlInfo, vaeDecodeMode, type ModelFamily, type SdxlInfo, type VaeDecodeMode } from './sdxl.ts';
import { convertFloatType } from './float-precision.ts';
import { DeviceTensors } from './device-tensors.ts';
import { ModelSessions } from './reopenable.ts';
import { UNET_CUDA_FOLDER, unetFolderOf, unetGraphFor, type UNetGraph } from './unet-folder.ts';
import { componentBytes } from './component-bytes.ts';

export type TimestepType = 'int64' | 'float32' | 'float16';

export interface ModelInfo {
  dir: string;
  name: string;
  /** 'sdxl' for a folder with SDXL's files (text_encoder_2/, tokenizer_2/, a UNet taking text_embeds and time_ids). */
  family: ModelFamily;
  /** SDXL's pooled width, empty-prompt rule and extra input types; absent for SD 1/2. */
  sdxl?: SdxlInfo;
  /** How the VAE decoder runs (SDXL's fp16 VAE is upcast to fp32 unless its config marks it fixed). */
  vaeDecode: VaeDecodeMode;
  prediction: PredictionType;
  /** Latent channels, and the default latent size (sample_size) of the UNet. */
  latentChannels: number;
  latentSize: number;
  /** Pixels per latent cell: 2^(len(vae block_out_channels) - 1). */
  vaeFactor: number;
  scalingFactor: number;
  /** Width of the states the UNet takes: the text encoder's, or for SDXL both encoders' joined (768 + 1280). */
  textHidden: number;
  tokens: number;
  unetFloat: FloatType;
  /** Which UNet graph runs: unet/, or the importer's unet_cuda/ on the CUDA provider (model/unet-folder.ts). */
  unetGraph: UNetGraph;
  /** Why a folder's CUDA graph is not the one running although the CUDA provider is (absent otherwise). */
  unetGraphProblem?: string;
  timestepType: TimestepType;
  /** How the UNet wants its timestep: a scalar, a [1] tensor or one per batch item. */
  timestepShape: 'scalar' | 'single' | 'batch';
  textFloat: FloatType;
  vaeFloat: FloatType;
  textInputType: 'int32' | 'int64';
  /** The networks' shapes from their configs, for memory estimates. */
  unetShape: UNetShape;
  vaeShape: VaeShape;
  /**
   * Bytes of the loaded components' files (graphs and external weights): about what the sessions hold. An fp16 VAE
   * decoder run in fp32 (vaeDecode 'upcast') counts twice its file: its weights are converted in memory.
   */
  weightBytes: number;
  /** The same for vae_encoder/ (0 without one): opened by the first img2img or pixel-space hires fix, then kept. */
  encoderBytes: number;
  /**
   * The graphs were built by this app's importer (the folder has its import_info.json). Its UNet upsamples to the
   * size of each skip connection, as diffusers does, so it runs at any multiple of the VAE factor.
   */
  imported: boolean;
}

export interface StableDiffusionModel {
  info: ModelInfo;
  schedule: DiscreteSchedule;
  /** The first text encoder's tokenizer and session (also textEncoders[0]). */
  tokenizer: ClipTokenizer;
  textEncoder: ComponentSession;
  /** Every text encoder in the order their states are joined: one for SD 1/2, two for SDXL. */
  textEncoders: TextEncoderPart[];
  unet: ComponentSession;
  vaeDecoder: ComponentSession;
  /** Releases and reopens the text encoders' and UNet's sessions (absent on models not loaded from a folder). */
  sessions?: ModelSessions;
  provider: ExecutionProvider;
  /** Providers tried before `provider` and why each could not be used (empty when the first worked). */
  fallbacks: Array<{ provider: ExecutionProvider; reason: string }>;
  /**
   * Uploads to the provider's device, where its tensors can stay there between runs (WebGPU): the UNet's inputs that
   * are the same at every step are uploaded once (absent for the other providers, or when turned off at load).
   */
  deviceTensors?: DeviceTensors;
  /**
   * The UNet's output stays on the device (deviceTensors'), where sampling runs with linear steps keep their latent
   * (pipeline/device-latents.ts); other runs read it back at each call.
   */
  latentsOnDevice?: boolean;
  dispose(): Promise<void>;
}

export interface LoadOptions {
  provider?: ProviderChoice;
  /** Keep the UNet's per-run inputs on the device where the provider can (default true; off for comparisons). */
  deviceInputs?: boolean;
  /** Keep sampling runs' latents on the device where the per-run inputs are (default true; off for comparisons). */
  deviceLatents?: boolean;
  /**
   * The UNet graph to try first (default: unet_cuda/ on the CUDA provider where the folder has it, else unet/); the
   * tests ask for unet_cuda/ on the CPU with its CUDA-only ops expanded into standard ones.
   */
  unetGraph?: UNetGraph;
}

/**
 * The UNet's session: from unet_cuda/ when the CUDA provider runs a folder that has it, else unet/. A CUDA graph
 * that does not open (an onnxruntime without those kernels) leaves the portable one running, with the reason.
 * `graph` names the folder to try first (the tests ask for unet_cuda/ on the CPU, where its CUDA-only ops fail).
 */
export async function openUNet(
  dir: string,
  provider: ExecutionProvider,
  opened: ComponentSession[],
  graph: UNetGraph = unetGraphFor(dir, provider),
  outputs: OutputPlace = 'host',
): Promise<{ unet: ComponentSession; graph: UNetGraph; problem?: string }> {
  let problem: string | undefined;
  if (graph === 'cuda') {
    try {
      const unet = await openComponent(dir, 'unet', provider, UNET_CUDA_FOLDER, outputs);
      opened.push(unet);
      return { unet, graph: 'cuda' };
    } catch (error) {
      problem = `${UNET_CUDA_FOLDER}/ did not open, so the portable UNet runs: ${firstLine((error as Error).message)}`;
    }
  }
  const unet = await openComponent(dir, 'unet', provider, 'unet', outputs);
  opened.push(unet);
  return { unet, graph: 'portable', problem };
}

function floatTypeOf(c: ComponentSession, input: string): FloatType {
  const type = c.inputs.get(input)!.type;
  if (type !== 'float32' && type !== 'float16')
    throw new ModelError(c.component, `input "${input}" has type ${type}; float32 or float16 expected`);
  return type;
}

/**
 * The model's name in results and PNG parameters: an imported model's source (the checkpoint's file name
 * without extension, as A1111 names it) rather than its cache folder's hash; otherwise the folder's name.
 */
function displayName(dir: string): string {
  try {
    const info = JSON.parse(readFileSync(join(dir, 'import_info.json'), 'utf8')) as { source?: unknown };
    if (typeof info.source === 'string' && info.source.length > 0) return basename(info.source).replace(/\.safetensors$/i, '');
  } catch {
    // not an import, or an unreadable note: the folder's own name
  }
  return basename(dir);
}

/**
 * Loads a model folder. `provider` 'auto' picks the best execution provider this machine can load
 * (CUDA, DirectML, Core ML, WebGPU, then CPU); an explicit one falls back to CPU. Every fallback is
 * recorded with its reason in `fallbacks`.
 */
export async function loadModel(dirArg: string, options: LoadOptions = {}): Promise<StableDiffusionModel> {
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
      const model = await loadWithProvider(dirArg, provider, options);
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

async function loadWithProvider(dirArg: string, provider: ExecutionProvider, options: LoadOptions): Promise<StableDiffusionModel> {
  const dir = resolve(dirArg);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new ModelError('model', `${dir} is not a folder`);
  const modelIndex = readJson(dir, 'model_index.json', 'model', true);
  for (const component of ['scheduler', 'tokenizer', 'tokenizer_2'])
    if (existsSync(join(dir, component))) refuseOutsideLinks(dir, component);

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

  const tokenizer = await loadTokenizer(dir, 'tokenizer');

  const opened: ComponentSession[] = [];
  const open = async (component: string) => {
    const c = await openComponent(dir, component, provider);
    opened.push(c);
    return c;
  };
  try {
    refuseRefiner(dir);
    const textEncoder = await open('text_encoder');
    // Where the provider keeps tensors (WebGPU), the UNet's output stays on the device for sampling runs kept there.
    const deviceTensors = (options.deviceInputs ?? true) ? DeviceTensors.for(provider) : undefined;
    const latentsOnDevice = deviceTensors !== undefined && (options.deviceLatents ?? true);
    const unetOutputs: OutputPlace = latentsOnDevice ? 'device' : 'host';
    const { unet, graph: unetGraph, problem: unetGraphProblem } = await openUNet(dir, provider, opened, options.unetGraph, unetOutputs);
    requireNames(unet, ['sample', 'timestep', 'encoder_hidden_states'], ['out_sample']);
    const unetFloat = floatTypeOf(unet, 'sample');
    const sdxl = isSdxlFolder(dir, unet);
    const textEncoders = [describeTextEncoder(textEncoder, tokenizer, textConfig, { sdxl, pooled: false })];
    let sdxlSettings: SdxlInfo | undefined;
    if (sdxl) {
      const tokenizer2 = await loadTokenizer(dir, 'tokenizer_2');
      const second = describeTextEncoder(
        await open('text_encoder_2'),
        tokenizer2,
        readJson(dir, 'text_encoder_2/config.json', 'text_encoder_2', false),
        { sdxl, pooled: true },
      );
      textEncoders.push(second);
      sdxlSettings = sdxlInfo(unet, second.pooled!.width, modelIndex);
    }
    let vaeDecoder = await open('vae_decoder');
    requireNames(vaeDecoder, ['latent_sample'], ['sample']);

    const textHidden = textEncoders.reduce((sum, part) => sum + part.hidden, 0);
    const unetHidden =
      lastDim(unet.inputs.get('encoder_hidden_states')!.shape) ?? configInteger(unetConfig, 'cross_attention_dim', textHidden, 'unet');
    if (textHidden !== unetHidden) {
      const produced =
        textEncoders.length > 1
          ? `text encoders produce ${textEncoders.map((p) => p.hidden).join(' + ')} = ${textHidden}`
          : `text encoder produces ${textHidden}`;
      throw new ModelError('unet', `the ${produced}-wide states but the UNet expects ${unetHidden} (mismatched components?)`);
    }
    if (new Set(textEncoders.map((p) => p.tokens)).size > 1) {
      throw new ModelError(
        'text_encoder_2',
        `takes ${textEncoders[1].tokens} tokens but text_encoder takes ` +
          `${textEncoders[0].tokens}; their states are joined position by position`,
      );
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
    const latentSize = latentSizeOf(
      unet,
      unetConfig?.sample_size === undefined ? undefined : configInteger(unetConfig, 'sample_size', 64, 'unet', LIMITS.imageSide),
    );
    checkNativeSize(latentSize, vaeFactor);
    let vaeFloat = floatTypeOf(vaeDecoder, 'latent_sample');
    const vaeDecode = sdxl ? vaeDecodeMode(vaeFloat, vaeConfig) : 'as-is';
    if (vaeDecode === 'upcast') {
      const upcast = await openComponentBytes(
        'vae_decoder',
        convertFloatType(join(dir, 'vae_decoder', 'model.onnx'), 'float16', 'float32', 'vae_decoder'),
        provider,
      );
      opened.push(upcast);
      await vaeDecoder.session.release();
      opened.splice(opened.indexOf(vaeDecoder), 1);
      vaeDecoder = upcast;
      vaeFloat = floatTypeOf(vaeDecoder, 'latent_sample');
    }
    await checkDecoderFactor(vaeDecoder, {
      vaeFactor,
      blocks: vaeArchitecture.channels.length,
      latentChannels,
      latentSize,
      float: vaeFloat,
    });

    const sessions = new ModelSessions(opened, [unet, ...textEncoders.map((p) => p.session)], async (component) =>
      component === 'unet'
        ? (await openComponent(dir, component, provider, unetFolderOf(unetGraph), unetOutputs)).session
        : (await openComponent(dir, component, provider)).session,
    );
    const info: ModelInfo = {
      dir,
      name: displayName(dir),
      family: sdxl ? 'sdxl' : 'sd',
      ...(sdxlSettings ? { sdxl: sdxlSettings } : {}),
      vaeDecode,
      prediction,
      latentChannels,
      latentSize,
      vaeFactor,
      scalingFactor: configNumber(vaeConfig, 'scaling_factor', 0.18215, 'vae_decoder'),
      textHidden,
      tokens: textEncoders[0].tokens,
      unetFloat,
      unetGraph,
      ...(unetGraphProblem ? { unetGraphProblem } : {}),
      timestepType: timestep.type,
      timestepShape: timestep.shape.length === 0 ? 'scalar' : timestep.shape[0] === 1 ? 'single' : 'batch',
      textFloat: textEncoders[0].statesFloat,
      vaeFloat,
      textInputType: textEncoders[0].inputType,
      unetShape: unetArchitecture,
      vaeShape: vaeArchitecture,
      weightBytes:
        [...textEncoders.map((p) => p.component), unetFolderOf(unetGraph)].reduce(
          (sum, folder) => sum + componentBytes(join(dir, folder)),
          0,
        ) +
        componentBytes(join(dir, 'vae_decoder')) * (vaeDecode === 'upcast' ? 2 : 1),
      encoderBytes: existsSync(join(dir, 'vae_encoder')) ? componentBytes(join(dir, 'vae_encoder')) : 0,
      imported: existsSync(join(dir, 'import_info.json')),
    };
    return {
      info,
      schedule,
      tokenizer,
      textEncoder,
      textEncoders,
      unet,
      vaeDecoder,
      provider,
      fallbacks: [],
      sessions,
      deviceTensors,
      latentsOnDevice,
      // The uploads' tensors are freed while the provider still has sessions (see device-tensors.ts).
      dispose: async () => {
        await deviceTensors?.dispose();
        await sessions.dispose();
      },
    };
  } catch (error) {
    await Promise.all(opened.map((c) => c.session.release().catch(() => undefined)));
    throw error;
  }
}
