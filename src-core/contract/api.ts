// The one typed contract between the UI and the engine side. The renderer, the preload bridge,
// Electron's main process and the local server all speak it; the renderer cannot tell whether it
// runs inside Electron or in a browser tab. Every request is validated with these zod schemas on
// the engine side of the boundary. No Node or engine imports here.
import { z } from 'zod';
import { describeIssues, GenerateRequestSchema, LIMITS, PlanRequestSchema, PROVIDER_CHOICES, type ProgressCounts } from './generate.ts';
import { GridRequestSchema, SweepRequestSchema, type GridRequest, type SweepRequest } from './experiments.ts';
import { payloadShapeProblem } from './payload-shape.ts';
import { ImageUploadSchema, type ImageUploadResult } from './images.ts';
import { ModelRequestSchemas, type ModelEvents, type ModelResults, type ModelSummary } from './models.ts';
import { AdapterRequestSchemas, type AdapterResults } from './adapters.ts';

export type { ModelSummary } from './models.ts';

/** The most entries one gallery.list reply holds: 1,000 of the longest (two 20,000-character prompts) are 45 MB. */
export const GALLERY_PAGE_MAX = 1000;

export const JobIdSchema = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/);
export const GalleryIdSchema = z.string().regex(/^[A-Za-z0-9_.-]{1,128}$/);

/** Method name -> params schema. */
export const RequestSchemas = {
  'app.info': z.object({}).strict(),
  'model.list': z.object({}).strict(),
  'model.select': z.object({ dir: z.string().min(1).max(4096), provider: z.enum(PROVIDER_CHOICES).optional() }).strict(),
  // steps: prompt editing's texts are counted for them (A1111's default 20 where absent). negative: the negative
  // prompt's counter (AND is plain text there).
  'prompt.count': z
    .object({
      prompt: z.string().max(LIMITS.promptChars),
      steps: z.number().int().min(1).max(LIMITS.steps).optional(),
      negative: z.boolean().optional(),
    })
    .strict(),
  'plan.describe': PlanRequestSchema,
  'job.generate': GenerateRequestSchema,
  'job.grid': GridRequestSchema,
  'job.sweep': SweepRequestSchema,
  'job.cancel': z.object({ jobId: JobIdSchema }).strict(),
  'job.active': z.object({}).strict(),
  /** Newest first; `offset` and `limit` page through it (one reply holds at most MAX_REPLY_BYTES). */
  'gallery.list': z
    .object({ offset: z.number().int().min(0).optional(), limit: z.number().int().min(1).max(GALLERY_PAGE_MAX).optional() })
    .strict(),
  'gallery.delete': z.object({ id: GalleryIdSchema }).strict(),
  'gallery.reveal': z.object({ id: GalleryIdSchema }).strict(),
  'png.read': z.object({ base64: z.string().max(64 * 1024 * 1024) }).strict(),
  /** img2img's source image: checked from its header, kept by the app, named by the ref it answers. */
  'image.upload': ImageUploadSchema,
  ...ModelRequestSchemas,
  ...AdapterRequestSchemas,
} as const;

export type Method = keyof typeof RequestSchemas;
export type Params<M extends Method> = z.input<(typeof RequestSchemas)[M]>;
/** A method's params after validation (defaults filled in). */
export type ParsedParams<M extends Method> = z.output<(typeof RequestSchemas)[M]>;
/** A validated call: the method and its parsed params, one member per method. */
export type ValidCall = { [M in Method]: { method: M; params: ParsedParams<M> } }[Method];

export type ProviderName = (typeof PROVIDER_CHOICES)[number];

/** The loaded model as the app reports it (the engine host's HostModelInfo builds on it). */
export interface LoadedModel {
  dir: string;
  name: string;
  width: number;
  height: number;
  prediction: string;
  vaeFactor: number;
  /**
   * What image sides must be multiples of: the VAE factor times 2 for each of the UNet's downsamplings (exported UNets
   * upsample by exactly 2). Absent from servers before it existed: the VAE factor then.
   */
  sizeMultiple?: number;
  maxTokens: number;
  /** 'sdxl': SDXL's size presets and original size / crop apply (absent: SD 1/2). */
  family?: 'sd' | 'sdxl';
}

export interface AppInfo {
  version: string;
  mode: 'electron' | 'browser';
  model: LoadedModel | null;
  modelError: string | null;
  /** The execution provider in use, and why others were passed over (empty when none were). */
  provider: string;
  providerNotes: string[];
  /** What the user chose ('auto' or one provider); `provider` is what that gave. */
  providerChoice: ProviderName;
  /**
   * Every choice, in the picker's order, with whether this onnxruntime build and machine can use it and why not;
   * `notForAuto`: usable when chosen, but 'auto' passes it over, and why (WebGPU with no GPU to run on).
   */
  providers: Array<{ name: ProviderName; available: boolean; reason?: string; notForAuto?: string }>;
  samplers: Array<{ name: string; label: string }>;
  schedules: string[];
  noiseSources: string[];
}

/**
 * A job the engine has accepted and not ended: what a window that did not start it needs to follow it (a generation's
 * image count; a grid's or sweep's request, the results it expects and those it has sent so far).
 */
export type ActiveJob =
  | { jobId: string; kind: 'generate'; images: number }
  | { jobId: string; kind: 'grid'; request: GridRequest; total: number; cells: GridCellEvent[] }
  | { jobId: string; kind: 'sweep'; request: SweepRequest; total: number; points: SweepPointEvent[] };

/** Which view's job made a gallery image: Generate, a Compare grid, an Explore sweep. */
export const GALLERY_SOURCES = ['generate', 'grid', 'sweep'] as const;
export type GallerySource = (typeof GALLERY_SOURCES)[number];

export interface GalleryEntry {
  id: string;
  /** URL the renderer can put in an <img> (served by the local server or Electron's protocol). */
  url: string;
  createdAt: string;
  seed: number;
  width: number;
  height: number;
  parameters: string;
  evaluations: number;
  seconds: number;
  /** Absent on images saved before it was recorded. */
  source?: GallerySource;
}

export interface ParametersImportResult {
  request: Partial<z.input<typeof GenerateRequestSchema>>;
  notes: string[];
  model?: string;
  /** A1111's "Lora hashes" / "TI hashes" as the file has them (missing ones are named in `notes`). */
  loraHashes?: string;
  tiHashes?: string;
}

/** Method name -> result type. */
export interface Results extends ModelResults, AdapterResults {
  'app.info': AppInfo;
  'model.list': ModelSummary[];
  'model.select': AppInfo;
  /** A1111's counter: tokens used / capacity of the 75-token chunks; `warning` only where something is wrong. */
  'prompt.count': { tokens: number; max: number; warning?: string };
  'plan.describe': { evaluations: number; sigmas: number[] };
  'job.generate': { jobId: string };
  'job.grid': { jobId: string };
  'job.sweep': { jobId: string };
  'job.cancel': { cancelled: boolean };
  /** Jobs accepted and not ended, oldest first (a window opened or reloaded while one runs shows it). */
  'job.active': ActiveJob[];
  'gallery.list': GalleryEntry[];
  'gallery.delete': { deleted: boolean };
  'gallery.reveal': { revealed: boolean };
  'png.read': ParametersImportResult;
  'image.upload': ImageUploadResult;
}

/** Events pushed to every client. */
export interface Events extends ModelEvents {
  'job.progress': { jobId: string } & ProgressCounts;
  'job.preview': { jobId: string; width: number; height: number; rgbaBase64: string };
  /** `notes`: what the user should know about the run (e.g. prompt tokens a fixed-length UNet dropped). */
  'job.done': {
    jobId: string;
    entries: GalleryEntry[];
    evaluations: number;
    seconds: number;
    timings: { textEncoderMs: number; unetMs: number; vaeMs: number; overheadMs: number };
    notes: string[];
  };
  /** `entries`: images the job finished before it was cancelled or failed, already in the gallery (generate jobs). */
  'job.failed': { jobId: string; error: string; cancelled: boolean; entries?: GalleryEntry[] };
  'engine.status': { state: 'starting' | 'ready' | 'crashed' | 'restarting'; message?: string };
  'grid.cell': GridCellEvent;
  'grid.done': { jobId: string; cells: GridCellEvent[]; csv: string };
  'sweep.point': SweepPointEvent;
  'sweep.done': { jobId: string; featureSpace: string; points: SweepPointEvent[] };
}

export interface GridCellEvent {
  jobId: string;
  x: number;
  y: number;
  xLabel: string;
  yLabel: string;
  entry: GalleryEntry;
  evaluations: number;
  seconds: number;
  done: number;
  total: number;
}

/** One point of a guidance sweep, as measured: the engine's result, the event and the exports build on it. */
export interface SweepPoint {
  sampler: string;
  cfgScale: number;
  evaluations: number;
  secondsPerImage: number;
  /** Mean pairwise distance between the seeds' images, in the sweep's feature space. */
  diversity: number;
  /** Fraction of images showing exactly what the prompt asks for; null when no evaluator can tell. */
  accuracy: number | null;
  /**
   * Frechet distance (evaluator features) between the point's images and real images of the same prompt, as many on each
   * side (the point's seeds, at most half the evaluator's real feature bank: a point with more seeds is scored on its first
   * ones), and the floor: what a second real set of that size scores.
   * Null when the model's evaluator has no real images for what the prompt asks.
   */
  fd: { value: number; floor: number } | null;
}

export interface SweepPointEvent extends SweepPoint {
  jobId: string;
  featureSpace: string;
  entries: GalleryEntry[];
  done: number;
  total: number;
}
export type EventName = keyof Events;

/** Wire format (WebSocket and MessagePort alike). */
export type ClientMessage = { id: number; method: string; params: unknown };
export type ServerMessage = { id: number; result: unknown } | { id: number; error: string } | { event: EventName; data: unknown };

/** What the renderer programs against; Electron's preload and the WebSocket client both provide it. */
export interface StudioApi {
  call<M extends Method>(method: M, params: Params<M>): Promise<Results[M]>;
  on<E extends EventName>(event: E, listener: (data: Events[E]) => void): () => void;
}

export class ContractError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ContractError';
  }
}

const MAX_ERROR_DETAIL = 600;

/** Validates a method name and its params; throws ContractError with a specific message. */
export function validateCall(method: unknown, params: unknown): ValidCall {
  if (typeof method !== 'string' || !Object.hasOwn(RequestSchemas, method)) {
    throw new ContractError(`unknown method ${JSON.stringify(method)?.slice(0, 80)}`);
  }
  const shape = payloadShapeProblem(params);
  if (shape) throw new ContractError(`invalid ${method} request: ${shape}`);
  const schema = RequestSchemas[method as Method];
  const result = schema.safeParse(params ?? {});
  if (!result.success) {
    const detail = describeIssues(result.error, 'params', 5);
    // Bounded: an issue can quote a long path or list many unknown keys.
    throw new ContractError(
      `invalid ${method} request: ${detail.length > MAX_ERROR_DETAIL ? `${detail.slice(0, MAX_ERROR_DETAIL)}…` : detail}`,
    );
  }
  // The schema was picked by this method name, so the pair is one member of ValidCall.
  return { method, params: result.data } as ValidCall;
}
