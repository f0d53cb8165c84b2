// Imports a Stable Diffusion checkpoint (.safetensors, LDM layout; SDXL in the SGM layout) or a diffusers folder
// into a diffusers-ONNX folder that the engine's loader opens unchanged (SDXL: optimum's layout, with
// text_encoder_2/ and tokenizer_2/). Everything is written into a
// temporary sibling folder that is renamed only when complete: a failed, cancelled or interrupted
// import leaves nothing that looks like a model. Weights are streamed one tensor at a time.
import { existsSync, linkSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { BuildOptions, Graph } from '../onnx/graph.ts';
import { DATA_FILE, writeModel, type SharedWeights, type WrittenWeight } from '../onnx/write-model.ts';
import { buildTextEncoder } from './clip-graph.ts';
import { buildUNet } from './unet-graph.ts';
import { buildVaeDecoder, buildVaeEncoder } from './vae-graph.ts';
import { inspectImportSource, openImportSource } from './source.ts';
import type { Family, Prediction } from './detect.ts';
import { looksLikeVPrediction } from './prediction-test.ts';
import { ImportError, type WeightSource } from './weights.ts';
import { providerAvailability } from '../model/providers.ts';
import { UNET_CUDA_FOLDER } from '../model/unet-folder.ts';
import { channelsLastName } from '../onnx/cuda-layers.ts';
import {
  checkTokenizer,
  writeComponentConfig,
  writeImportInfo,
  writeModelIndex,
  writeSchedulerConfig,
  writeTokenizer,
} from './write-folder.ts';

/**
 * Bumped whenever the importer's output changes, so cached imports are made again; FAMILY_OUTPUT_VERSION says whose.
 * 2: SD 1/2 text encoders have every hidden state as an output too (A1111's Clip skip reads them).
 */
export const IMPORTER_VERSION = 2;

/**
 * The importer version at which each family's output last changed: a cached import made by that version or a later
 * one is what this importer would write, and is reused (import/cache-versions.ts). Set a family's entry to the new
 * IMPORTER_VERSION when a change touches its output. SDXL stays at 1: its text encoders had every hidden state already.
 */
export const FAMILY_OUTPUT_VERSION: Readonly<Record<Family, number>> = { sd1: 2, sd2: 2, sdxl: 1 };

/** 'text_encoder' covers SDXL's second text encoder too. */
export type ImportStage = 'reading' | 'text_encoder' | 'unet' | 'vae_decoder' | 'vae_encoder' | 'finishing';
export interface ImportProgress {
  stage: ImportStage;
  bytesDone: number;
  bytesTotal: number;
}
export type { Prediction };
export type Precision = 'fp32' | 'fp16';

export interface ImportOptions {
  /** The final folder; it must not exist yet. */
  out: string;
  prediction?: Prediction;
  precision?: Precision;
  /** A separate VAE file that replaces the checkpoint's (the usual "vae-ft-mse" one). */
  vae?: string;
  /** A diffusers folder whose configs (and tokenizer) define the architecture, as diffusers' from_single_file(config=). */
  config?: string;
  /**
   * Attention in the UNet and VAE: onnxruntime's com.microsoft MultiHeadAttention (default: 5x faster on CPU at
   * 512x512, and providers without it run that node on the CPU), or the plain MatMul/Softmax form.
   */
  attention?: 'plain' | 'mha';
  /**
   * Also write the UNet's CUDA flavour (unet_cuda/: NHWC with onnxruntime's fused CUDA ops), which the loader runs
   * instead of unet/ when the CUDA provider is in use. Default: when this machine's onnxruntime can use CUDA.
   */
  cudaGraph?: boolean;
  sourceHash?: string;
  onProgress?: (progress: ImportProgress) => void;
  signal?: AbortSignal;
}

export interface ImportResult {
  dir: string;
  family: Family;
  prediction: Prediction;
  predictionSource: string;
  precision: Precision;
  cudaGraph: boolean;
  notes: string[];
  seconds: number;
  bytes: number;
}

export class ImportCancelled extends Error {
  override name = 'ImportCancelled';
  constructor() {
    super('import cancelled');
  }
}

interface Component {
  name: 'text_encoder' | 'text_encoder_2' | 'unet' | typeof UNET_CUDA_FOLDER | 'vae_decoder' | 'vae_encoder';
  config: Record<string, unknown>;
  build: () => Graph;
}

/** optimum marks the text encoders it exported with every hidden state in their config.json. */
function withHiddenStates(config: Record<string, unknown>): Record<string, unknown> {
  return { ...config, output_hidden_states: true };
}

/** Whether imports here write the CUDA UNet unless told: when onnxruntime's CUDA provider can run on this machine. */
export function cudaGraphByDefault(): boolean {
  return providerAvailability().some((p) => p.name === 'cuda' && p.available);
}

/** SDXL's text_encoder_2 (CLIPTextModelWithProjection with every hidden state); none for SD 1/2. */
function sdxlTextEncoder2(weights: WeightSource | undefined, config: Record<string, unknown> | undefined, opts: BuildOptions): Component[] {
  if (!weights || !config) return [];
  return [
    {
      name: 'text_encoder_2',
      config: withHiddenStates(config),
      build: () => buildTextEncoder(weights, config as never, opts, { projection: true, hiddenStates: true, name: 'text_encoder_2' }),
    },
  ];
}

function checkOut(out: string): void {
  if (existsSync(out) && (!statSync(out).isDirectory() || readdirSync(out).length > 0)) {
    throw new ImportError(`${out} already exists; choose a new folder for the imported model`);
  }
  if (!existsSync(dirname(out))) throw new ImportError(`the folder ${dirname(out)} does not exist`);
  if (!statSync(dirname(out)).isDirectory()) throw new ImportError(`${dirname(out)} is a file, not a folder; choose a folder for --out`);
}

function describeWriteError(error: unknown, where: string): Error {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOSPC') return new ImportError(`the disk is full: could not write ${where}; nothing was kept`);
  if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS')
    return new ImportError(`cannot write ${where} (${code}): choose a writable folder`);
  return error as Error;
}

export async function importModel(sourcePath: string, options: ImportOptions): Promise<ImportResult> {
  const started = performance.now();
  const out = resolve(options.out);
  const precision = options.precision ?? 'fp32';
  const cudaGraph = options.cudaGraph ?? cudaGraphByDefault();
  checkOut(out);
  const source = await openImportSource(resolve(sourcePath), { vae: options.vae, config: options.config, prediction: options.prediction });
  const partial = join(dirname(out), `.${basename(out)}.partial-${randomBytes(4).toString('hex')}`);
  const signal = options.signal;
  try {
    // A tokenizer file missing from the source is found before minutes of conversion, not after.
    checkTokenizer(source.tokenizerDir);
    if (source.family === 'sdxl') checkTokenizer(source.tokenizer2Dir);
    const float = precision === 'fp16' ? 'float16' : 'float32';
    const opts = { float, attention: options.attention ?? 'mha' } as const;
    const { unet, vae, textEncoder, textEncoder2 } = source.configs;
    const sdxl = source.family === 'sdxl';
    // SD's VAE overflows in fp16 at larger sizes; diffusers runs it in fp32 where the config says force_upcast (its default).
    const vaeUpcast = float === 'float16' && (vae as { force_upcast?: boolean }).force_upcast !== false;
    const vaeOpts = vaeUpcast ? ({ ...opts, float: 'float32' } as const) : opts;
    // Every layer's state is an output, as optimum exports SDXL's: SDXL conditions on both encoders' penultimate
    // states, and SD 1's Clip skip on an earlier layer's (model/clip-skip.ts).
    const components: Component[] = [
      {
        name: 'text_encoder',
        config: withHiddenStates(textEncoder),
        build: () => buildTextEncoder(source.weights.textEncoder, textEncoder as never, opts, { hiddenStates: true }),
      },
      ...sdxlTextEncoder2(source.weights.textEncoder2, textEncoder2, opts),
      {
        name: 'unet',
        config: unet,
        build: () => buildUNet(source.weights.unet, unet as never, opts),
      },
      ...(cudaGraph
        ? [
            {
              name: UNET_CUDA_FOLDER,
              config: unet,
              build: () => buildUNet(source.weights.unet, unet as never, { ...opts, target: 'cuda' }),
            } as const,
          ]
        : []),
      {
        name: 'vae_decoder',
        config: vae,
        build: () => buildVaeDecoder(source.weights.vae, vae as never, vaeOpts),
      },
      {
        name: 'vae_encoder',
        config: vae,
        build: () => buildVaeEncoder(source.weights.vae, vae as never, vaeOpts),
      },
    ];
    // Building reads no weight values, so every graph is built first: their data files' sizes are the progress total.
    const graphs = components.map((c) => c.build());
    const totals = graphs.map((g) => g.weightBytes());
    const bytesTotal = totals.reduce((a, b) => a + b, 0);
    let bytesBefore = 0;
    let portableUNet: Map<string, WrittenWeight> | undefined;
    options.onProgress?.({ stage: 'reading', bytesDone: 0, bytesTotal });
    for (const [i, component] of components.entries()) {
      if (signal?.aborted) throw new ImportCancelled();
      const graph = graphs[i]!;
      const dir = join(partial, component.name);
      const shared = component.name === UNET_CUDA_FOLDER && portableUNet ? sharePortableWeights(partial, portableUNet) : undefined;
      try {
        const written = await writeModel(graph, dir, {
          signal,
          shared,
          onWeight: (done) =>
            options.onProgress?.({
              stage: component.name === 'text_encoder_2' ? 'text_encoder' : component.name === UNET_CUDA_FOLDER ? 'unet' : component.name,
              bytesDone: bytesBefore + done,
              bytesTotal,
            }),
        });
        if (component.name === 'unet') portableUNet = written.weights;
        if (shared && written.sharedBytes === 0) rmSync(join(dir, shared.location));
      } catch (error) {
        if (signal?.aborted) throw new ImportCancelled();
        throw describeWriteError(error, `${component.name}/model.onnx_data`);
      }
      writeComponentConfig(partial, component.name, component.config);
      bytesBefore += totals[i]!;
    }
    options.onProgress?.({ stage: 'finishing', bytesDone: bytesTotal, bytesTotal });

    const notes = [...source.notes];
    if (vaeUpcast) notes.push('the VAE stays fp32 (its config asks for force_upcast: fp16 VAEs overflow at larger sizes)');
    if (source.prediction === 'needs-test') {
      const width = Number((unet as { cross_attention_dim?: number }).cross_attention_dim ?? 1024);
      const test = await looksLikeVPrediction(join(partial, 'unet'), width, float);
      source.settlePrediction(test.v ? 'v_prediction' : 'epsilon');
      notes.push(
        `prediction type ${source.prediction}, found as A1111 finds it (UNet test: ` +
          `mean shift ${test.meanShift.toFixed(3)}); override with --prediction`,
      );
      // The v-model's native size (768) is in the configs that settlePrediction updated.
      writeComponentConfig(partial, 'unet', source.configs.unet);
      if (cudaGraph) writeComponentConfig(partial, UNET_CUDA_FOLDER, source.configs.unet);
      writeComponentConfig(partial, 'vae_decoder', source.configs.vae);
      writeComponentConfig(partial, 'vae_encoder', source.configs.vae);
    }
    const prediction = source.prediction as Prediction;
    const predictionSource = source.predictionSource;
    writeSchedulerConfig(partial, source.configs.scheduler, prediction);
    writeTokenizer(partial, source.tokenizerDir, source.family === 'sd2' ? '!' : 'end');
    // SDXL's second tokenizer pads with "!", as Stability's tokenizer_2 does.
    if (sdxl) writeTokenizer(partial, source.tokenizer2Dir, '!', 'tokenizer_2');
    writeModelIndex(partial, source.family, source.forceZerosForEmptyPrompt ?? true);
    writeImportInfo(partial, {
      importerVersion: IMPORTER_VERSION,
      source: resolve(sourcePath),
      sourceHash: options.sourceHash,
      family: source.family,
      prediction,
      predictionSource,
      precision,
      cudaGraph,
      date: new Date().toISOString(),
      notes,
    });
    if (signal?.aborted) throw new ImportCancelled();
    renameSync(partial, out);
    return {
      dir: out,
      family: source.family,
      prediction,
      predictionSource,
      precision,
      cudaGraph,
      notes,
      seconds: (performance.now() - started) / 1000,
      bytes: bytesTotal,
    };
  } catch (error) {
    // The original error is the one to report: a failing cleanup must not replace it.
    try {
      rmSync(partial, { recursive: true, force: true });
    } catch {
      // nothing more to do; the partial folder's name says what it is
    }
    throw describeWriteError(error, out);
  } finally {
    source.close();
  }
}

/** unet_cuda/'s file of the weights it shares with unet/: a hard link to unet/'s data file, so they take no more disk. */
const SHARED_UNET_FILE = 'unet.onnx_data';

/**
 * The CUDA graph keeps many of the portable UNet's weights (its Linears and 1x1 convs, the same bytes): it refers to them in
 * unet/'s data file, linked into unet_cuda/ (onnxruntime reads external data from the model's own folder only).
 * Where the disk cannot link files, unet_cuda/ gets its own copy of every weight.
 */
function sharePortableWeights(partial: string, weights: ReadonlyMap<string, WrittenWeight>): SharedWeights | undefined {
  const dir = join(partial, UNET_CUDA_FOLDER);
  mkdirSync(dir, { recursive: true });
  try {
    linkSync(join(partial, 'unet', DATA_FILE), join(dir, SHARED_UNET_FILE));
  } catch {
    return undefined;
  }
  // A 1x1 conv kernel [M, C, 1, 1] laid out channels-last ([M, 1, 1, C], NhwcConv's) keeps its bytes.
  const shared = new Map(weights);
  for (const [name, weight] of weights) {
    const [m, c, kh, kw] = weight.dims;
    if (weight.dims.length === 4 && kh === 1 && kw === 1) shared.set(channelsLastName(name), { ...weight, dims: [m!, 1, 1, c!] });
  }
  return { location: SHARED_UNET_FILE, weights: shared };
}

/** A quick look (headers and configs only) for the app: what the file or folder is; rejects with why it cannot be imported. */
export async function inspectSource(
  path: string,
): Promise<{ kind: 'checkpoint' | 'diffusers' | 'diffusers-onnx'; family?: Family; notes: string[] }> {
  const look = inspectImportSource(resolve(path));
  if (look.problem) throw new ImportError(look.problem);
  return { kind: look.kind, family: look.family, notes: look.notes };
}
