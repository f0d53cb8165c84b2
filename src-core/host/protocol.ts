// Messages between the app's main side and the engine host process (child_process.fork in local
// mode, Electron's utilityProcess in the desktop app). Structured-clone friendly: PNGs travel as bytes.
import type { z } from 'zod';
import type { GenerateRequestInput, ProgressCounts } from '../contract/generate.ts';
import type { GridRequestSchema, SweepRequestSchema } from '../contract/experiments.ts';
import type { LoadedModel, Params, Results, SweepPoint } from '../contract/api.ts';

type NoParams = Record<string, never>;
/** A job's request as the contract takes it (the host validates it again before queueing), and img2img's source file. */
type JobParams<R> = { jobId: string; request: R; initImage?: Uint8Array };

/** Every host method: what the main side sends and what the engine answers. */
export interface HostMethods {
  /** `adapters`: the LoRA and embedding folders (and the cache of adapted graphs) the model gets (src-core/adapters). */
  load: {
    params: { dir: string; provider: string; adapters?: { loraDirs: string[]; embeddingDirs: string[]; cacheRoot: string } };
    result: HostModelInfo;
  };
  info: { params: NoParams; result: HostModelInfo | null };
  providers: { params: NoParams; result: HostProvider[] };
  count: { params: Params<'prompt.count'>; result: Results['prompt.count'] };
  plan: { params: Params<'plan.describe'>; result: Results['plan.describe'] };
  generate: { params: JobParams<GenerateRequestInput>; result: { jobId: string } };
  grid: { params: JobParams<z.input<typeof GridRequestSchema>>; result: { jobId: string } };
  sweep: { params: JobParams<z.input<typeof SweepRequestSchema>>; result: { jobId: string } };
  cancel: { params: Params<'job.cancel'>; result: Results['job.cancel'] };
  /** For crash-isolation tests only: the process dies, no reply comes. */
  crash: { params: NoParams; result: null };
  memory: { params: NoParams; result: HostMemory };
}

export type HostMethod = keyof HostMethods;
export type HostParams<M extends HostMethod> = HostMethods[M]['params'];
export type HostResult<M extends HostMethod> = HostMethods[M]['result'];
/** The methods that queue a job: their params carry its jobId. */
export const HOST_JOB_METHODS = ['generate', 'grid', 'sweep'] as const satisfies readonly HostMethod[];

export type HostRequest = { [M in HostMethod]: { id: number; method: M; params: HostParams<M> } }[HostMethod];
export type HostJobRequest = Extract<HostRequest, { method: (typeof HOST_JOB_METHODS)[number] }>;
export function isJobRequest(request: HostRequest): request is HostJobRequest {
  return (HOST_JOB_METHODS as readonly string[]).includes(request.method);
}

/** The engine process's own memory figures, for the soak test (after a full collection where the process allows one). */
export interface HostMemory {
  rssMiB: number;
  heapMiB: number;
  externalMiB: number;
  collected: boolean;
}

export interface HostImage {
  index: number;
  seed: number;
  width: number;
  height: number;
  parameters: string;
  png: Uint8Array;
}

/** One execution provider of the engine's onnxruntime: usable here or not, and why not. */
export interface HostProvider {
  name: string;
  available: boolean;
  reason?: string;
  /** Usable when chosen, but passed over by 'auto', and why. */
  notForAuto?: string;
}

/** The contract's LoadedModel with its family always stated, and the execution provider that runs it. */
export interface HostModelInfo extends Required<LoadedModel> {
  provider: string;
  providerNotes: string[];
}

export type HostEvent =
  | ({ event: 'progress'; jobId: string } & ProgressCounts)
  /** A live preview, with the job's progress counts at its moment (sent instead of a progress event: host/progress-pace.ts). */
  | { event: 'preview'; jobId: string; width: number; height: number; rgba: Uint8Array; progress: ProgressCounts }
  /** A generate job's finished batch, sent as soon as it is encoded: the main side saves it at once, so a cancel or crash keeps it. */
  | { event: 'images'; jobId: string; images: HostImage[]; evaluations: number; secondsPerImage: number }
  /** The job's images came in 'images' events before this; notes are what the user should know about the run. */
  | {
      event: 'done';
      jobId: string;
      evaluations: number;
      notes: string[];
      timings: { totalMs: number; textEncoderMs: number; unetMs: number; vaeMs: number; overheadMs: number };
    }
  | { event: 'failed'; jobId: string; error: string; cancelled: boolean }
  | {
      event: 'gridCell';
      jobId: string;
      x: number;
      y: number;
      xLabel: string;
      yLabel: string;
      image: HostImage;
      evaluations: number;
      seconds: number;
      done: number;
      total: number;
    }
  | { event: 'gridDone'; jobId: string; csv: string }
  | ({ event: 'sweepPoint'; jobId: string; featureSpace: string; images: HostImage[]; done: number; total: number } & SweepPoint)
  | { event: 'sweepDone'; jobId: string; featureSpace: string };

/** The events after which a job sends nothing more: declared once, for whoever tracks jobs in flight. */
export const JOB_END_EVENTS = ['done', 'failed', 'gridDone', 'sweepDone'] as const satisfies readonly HostEvent['event'][];
export type JobEndEvent = Extract<HostEvent, { event: (typeof JOB_END_EVENTS)[number] }>;
export function endsJob(event: HostEvent): event is JobEndEvent {
  return (JOB_END_EVENTS as readonly string[]).includes(event.event);
}

/** A reply's result is the HostResult of the request with the same id (EngineProcess.request pairs them). */
export type HostReply = { id: number; result: unknown } | { id: number; error: string };
export type HostMessage = HostReply | HostEvent;
