// How much memory a request needs on a model, estimated before it runs, and the budget it must fit.
//
// The dominant term is self-attention's score matrix at the highest-resolution attention level:
// (UNet batch) x heads x N^2 values, N the latent positions at that level. onnxruntime's CPU
// provider materialises it (1024x1024 on restart-shapes-64 failed with "Failed to allocate
// 137438953472" = 2 x 4 heads x 65536^2 x 4 bytes), and holds two to three such buffers at once
// (matmul output, scaled, softmax). Then the UNet's other activations, the VAE decoder's (its mid
// block attends over every latent position with one head; its convolutions run at image size),
// the output pixels, the weights (the VAE encoder's too when img2img or pixel-space hires fix loads it) and the
// runtime itself.
//
// Calibration (`npm run bench:memory`: each case in its own process, 1 Euler step, peak RSS from
// process.resourceUsage().maxRSS; onnxruntime-node 1.30, CPU, 2-core dev machine):
//
//   model              size       batch  CFG   peak RSS   estimate  ratio
//   restart-shapes-64      64x64      1    7    225 MiB    294 MiB   1.31
//   restart-shapes-64    128x128      1    7    303 MiB    396 MiB   1.31
//   restart-shapes-64    192x192      1    7    634 MiB    804 MiB   1.27
//   restart-shapes-64    256x256      1    7   1430 MiB   1880 MiB   1.31
//   restart-shapes-64    320x320      1    7   3220 MiB   4128 MiB   1.28
//   restart-shapes-64    192x192      1    1    456 MiB    545 MiB   1.20
//   restart-shapes-64    128x128      4    7    563 MiB    728 MiB   1.29
//   restart-shapes-64    128x128      8    1    641 MiB    732 MiB   1.14
//   restart-shapes-64      64x64     16    7    350 MiB    440 MiB   1.26
//   tiny-sd-eps-int64      32x32      1    7    194 MiB    257 MiB   1.33
//   tiny-sd-eps-int64    512x512      1    7    213 MiB   3614 MiB  16.95
//   tiny-sd-eps-int64  1024x1024      4    7    427 MiB 201444 MiB 471.69
//
// Long prompts (cases SIZExBATCHxCFGxCHUNKS, BREAK between copies of a short prompt; 2026-12-07):
//
//   restart-shapes-64      64x64      1    7   32 chunks   261 MiB    355 MiB   1.36
//   restart-shapes-64    128x128      1    7   32 chunks   468 MiB    624 MiB   1.33
//   restart-shapes-64    256x256      1    7   32 chunks  1429 MiB   2780 MiB   1.94
//   restart-shapes-64      64x64      4    7   32 chunks   416 MiB    567 MiB   1.36
//
// A second run of the same cases (separate processes) measured within 4% of these. Every estimate
// on the built-in model is above its measurement and within 2x of it (tests/memory-estimate.test.ts
// checks this). The test fixtures' UNet configs leave the network out (their graphs are a single
// convolution), so SD 1.5's shape is assumed for them, as diffusers would: far above, by design.
// 512x512 on restart-shapes-64 is estimated at 26.3 GB (it passed 13 GB in 12 s when issue 14 was
// filed); 1024x1024 at 414 GB. Neither was run here.
import { totalmem } from 'node:os';
import type { ModelInfo } from '../model/model.ts';
import type { ExecutionProvider } from '../model/session.ts';

export interface RequestShape {
  width: number;
  height: number;
  /** Images per UNet call: the request's batch size. */
  batchSize: number;
  /** Any scale but 1 runs classifier-free guidance, which doubles the UNet batch. */
  cfgScale: number;
  /** The UNet's rows per image where the prompt sets them: a prompt with AND runs each part and the negative prompt. */
  rowsPerImage?: number;
  /**
   * The VAE encoder is loaded: the request runs it (img2img, pixel-space hires fix) or an earlier one opened it. Its
   * weights count; its activations (one image at a time, the decoder's mirror) stay under the decoder's estimate.
   */
  vaeEncoder?: boolean;
  /** The largest image the VAE works on, where larger than width x height (hires fix's upscale before its crop). */
  vaeImage?: { width: number; height: number };
  /**
   * Text positions cross-attention attends to: 77 per prompt chunk (the prompt and the negative prompt are padded to
   * the same chunks). 77 when absent. A long prompt (BREAK makes a chunk of six characters) costs memory too.
   */
  contextTokens?: number;
}

export interface MemoryEstimate {
  bytes: number;
  /** Latent positions at the highest-resolution attention level (0 when the UNet has none). */
  attentionPositions: number;
  /** Images in each UNet call: the batch, doubled by guidance. */
  unetBatch: number;
  parts: { runtime: number; weights: number; unet: number; vae: number; buffers: number };
}

/** Score-sized buffers alive at once in one attention block (measured 2.4-2.9 incl. activations). */
export const SCORE_COPIES = 3;
/** Node, onnxruntime and the engine before any request (measured 180-230 MiB after loading). */
export const RUNTIME_BYTES = 256 * 2 ** 20;
/** Live activations per channel per position in the UNet: resnets, skip connections, GEGLU (8x). */
const UNET_ACTIVATIONS = 12;
/** The same for the VAE decoder's convolutions (a resnet's input, output and norm temporaries). */
const VAE_ACTIVATIONS = 6;
/** Per output pixel: the decoder's float32 RGB, its copy, RGBA bytes and the PNG. */
const BYTES_PER_PIXEL = 40;
/** onnxruntime pre-packs weights into its own layouts, so a graph's weights can be resident twice. */
export const WEIGHT_COPIES = 2;
/** CLIP's 77 tokens a prompt chunk, the keys of cross-attention. */
export const CHUNK_POSITIONS = 77;
/** Copies of the prompt states alive at once: the encoder's output, its weighted copy, the joined batch, the UNet's input. */
const STATE_COPIES = 4;

/** Attention runs in fp32 on the CPU provider whatever the model's float type (fp16 kernels are cast). */
function elementBytes(float: 'float32' | 'float16', provider: ExecutionProvider): number {
  return provider === 'cpu' || float === 'float32' ? 4 : 2;
}

function unetBytes(
  info: ModelInfo,
  h: number,
  w: number,
  batch: number,
  element: number,
  context: number,
): { bytes: number; positions: number } {
  const { channels, heads } = info.unetShape;
  let scores = 0,
    activations = 0,
    positions = 0;
  channels.forEach((c, level) => {
    const n = Math.ceil(h / 2 ** level) * Math.ceil(w / 2 ** level);
    activations += batch * n * c * element * UNET_ACTIVATIONS;
    if (heads[level] === 0) return;
    if (positions === 0) positions = n;
    // Self-attention scores (n x n) and cross-attention scores (n x the text positions), per head.
    scores = Math.max(scores, batch * heads[level] * n * (n + context) * element);
  });
  return { bytes: SCORE_COPIES * scores + activations, positions };
}

function vaeBytes(info: ModelInfo, h: number, w: number, images: number, element: number): number {
  const { channels, midAttention } = info.vaeShape;
  const positions = h * w;
  const mid = midAttention ? SCORE_COPIES * images * positions * positions * element : 0;
  // Level 0 runs at image size, each level after it at half the resolution of the one before.
  const levels = channels.length;
  const convs = channels.reduce((sum, c, level) => sum + images * c * positions * 4 ** (levels - 1 - level) * element * VAE_ACTIVATIONS, 0);
  return mid + convs;
}

export function estimateRequestMemory(info: ModelInfo, shape: RequestShape, provider: ExecutionProvider = 'cpu'): MemoryEstimate {
  const h = Math.ceil(shape.height / info.vaeFactor),
    w = Math.ceil(shape.width / info.vaeFactor);
  const unetBatch = shape.batchSize * (shape.rowsPerImage ?? (shape.cfgScale !== 1 ? 2 : 1));
  const context = shape.contextTokens ?? CHUNK_POSITIONS;
  const unet = unetBytes(info, h, w, unetBatch, elementBytes(info.unetFloat, provider), context);
  // decodeLatents decodes a whole fp32 batch in one call, fp16 ones an image at a time.
  const vaeImages = info.vaeFloat === 'float16' ? 1 : shape.batchSize;
  const vaeH = Math.max(h, Math.ceil((shape.vaeImage?.height ?? 0) / info.vaeFactor)),
    vaeW = Math.max(w, Math.ceil((shape.vaeImage?.width ?? 0) / info.vaeFactor));
  const vae = vaeBytes(info, vaeH, vaeW, vaeImages, elementBytes(info.vaeFloat, provider));
  // The sampler's float64 latents (a few copies), the decoded images of the batch and the prompt states (float32,
  // one row per image of the UNet's batch).
  const states = STATE_COPIES * unetBatch * context * info.textHidden * 4;
  const buffers = shape.batchSize * (shape.width * shape.height * BYTES_PER_PIXEL + info.latentChannels * h * w * 8 * 8) + states;
  // One copy of each component: a LoRA set's sessions take the base's place (model/reopenable.ts), not a place beside it.
  const weights = WEIGHT_COPIES * (info.weightBytes + (shape.vaeEncoder ? info.encoderBytes : 0));
  const parts = { runtime: RUNTIME_BYTES, weights, unet: unet.bytes, vae, buffers };
  return {
    bytes: parts.runtime + parts.weights + Math.max(parts.unet, parts.vae) + parts.buffers,
    attentionPositions: unet.positions,
    unetBatch,
    parts,
  };
}

/** Image sides the model can run: whole latent cells that survive every UNet downsampling. */
export function sizeStep(info: ModelInfo): number {
  return info.vaeFactor * 2 ** (info.unetShape.channels.length - 1);
}

/**
 * What the app asks image sides to be multiples of (LoadedModel.sizeMultiple): sizeStep, which traced UNet exports
 * need (they upsample by exactly 2). The importer's UNets, and a model that runs at a native size off that step,
 * upsample to their skip connections' sizes instead and take any multiple of the VAE factor.
 */
export function sizeMultiple(info: ModelInfo): number {
  const step = sizeStep(info);
  return info.imported || (info.latentSize * info.vaeFactor) % step !== 0 ? info.vaeFactor : step;
}

/** The largest square side (a multiple of sizeStep, up to maxSide) whose estimate fits, if any. */
export function largestSquareThatFits(
  info: ModelInfo,
  shape: Omit<RequestShape, 'width' | 'height'>,
  budgetBytes: number,
  maxSide: number,
  provider: ExecutionProvider = 'cpu',
): number | undefined {
  const step = sizeStep(info);
  const fits = (k: number) => estimateRequestMemory(info, { ...shape, width: k * step, height: k * step }, provider).bytes <= budgetBytes;
  // The estimate grows with the side, so binary search over multiples of the step.
  let hi = Math.floor(maxSide / step);
  if (hi === 0 || !fits(1)) return undefined;
  let lo = 1;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (fits(mid)) lo = mid;
    else hi = mid - 1;
  }
  return lo * step;
}

export const MEMORY_BUDGET_ENV = 'RESTART_STUDIO_MEMORY_GB';
/** Of the machine's memory, what one request may use: the rest is the OS's, the app's and the UI's. */
export const MACHINE_FRACTION = 0.6;

export interface MemoryBudget {
  bytes: number;
  /** Where the number comes from, for the refusal message. */
  source: string;
}

/**
 * The memory one request may use. A fraction of the machine's total memory (or of the container's
 * limit, when lower), not of its free memory: os.freemem() is MemFree, which leaves out the page
 * cache the kernel gives back on demand, and it changes from one moment to the next, so the same
 * request would be refused or accepted at random. GPU providers' device memory is not visible to
 * onnxruntime-node: they are held to the same number unless RESTART_STUDIO_MEMORY_GB says otherwise.
 */
export function memoryBudget(provider: ExecutionProvider = 'cpu', env: NodeJS.ProcessEnv = process.env): MemoryBudget {
  const override = env[MEMORY_BUDGET_ENV];
  if (override !== undefined && override !== '') {
    const gb = Number(override);
    if (Number.isFinite(gb) && gb > 0) return { bytes: gb * 1e9, source: `set by ${MEMORY_BUDGET_ENV}` };
  }
  const machine = machineMemory();
  const where = provider === 'cpu' ? '' : `; ${provider} device memory is not visible to the engine`;
  return {
    bytes: MACHINE_FRACTION * machine,
    source: `${MACHINE_FRACTION * 100}% of its ${formatGb(machine)} GB${where}; set ${MEMORY_BUDGET_ENV} to change it`,
  };
}

let machineRead: { bytes: number; at: number } | undefined;

/** The machine's memory, or the container's limit when lower: read again after a few seconds at most (reading the
 * cgroup's files on every request cost more than the rest of its memory check). */
function machineMemory(): number {
  const now = performance.now();
  if (!machineRead || now - machineRead.at > 5000) {
    const limit = process.constrainedMemory?.() ?? 0;
    machineRead = { bytes: limit > 0 ? Math.min(totalmem(), limit) : totalmem(), at: now };
  }
  return machineRead.bytes;
}

/** 0.84, 14.2, 412, 1,688,850: three significant digits, whole numbers from 100 up. */
export function formatGb(bytes: number): string {
  const gb = bytes / 1e9;
  return gb >= 100 ? Math.round(gb).toLocaleString('en-US') : String(Number(gb.toPrecision(3)));
}
