// Messages between the app's main side and the engine host process (child_process.fork in local
// mode, Electron's utilityProcess in the desktop app). Structured-clone friendly: PNGs travel as bytes.
import type { GenerateRequestInput } from '../contract/generate.ts';

export type HostRequest =
  | { id: number; method: 'load'; params: { dir: string; provider: string } }
  | { id: number; method: 'info'; params: Record<string, never> }
  | { id: number; method: 'providers'; params: Record<string, never> }
  | { id: number; method: 'count'; params: { prompt: string } }
  | { id: number; method: 'plan'; params: { sampler: string; schedule: string; steps: number; cfgScale: number; restart?: unknown } }
  | { id: number; method: 'generate'; params: { jobId: string; request: GenerateRequestInput } }
  | { id: number; method: 'grid'; params: { jobId: string; request: unknown } }
  | { id: number; method: 'sweep'; params: { jobId: string; request: unknown } }
  | { id: number; method: 'cancel'; params: { jobId: string } }
  | { id: number; method: 'crash'; params: Record<string, never> }
  | { id: number; method: 'memory'; params: Record<string, never> };

/** The engine process's own memory figures, for the soak test (after a full collection where the process allows one). */
export interface HostMemory { rssMiB: number; heapMiB: number; externalMiB: number; collected: boolean }

export interface HostImage {
  index: number;
  seed: number;
  width: number;
  height: number;
  parameters: string;
  png: Uint8Array;
}

/** One execution provider of the engine's onnxruntime: usable here or not, and why not. */
export interface HostProvider { name: string; available: boolean; reason?: string }

export interface HostModelInfo {
  dir: string;
  name: string;
  width: number;
  height: number;
  prediction: string;
  vaeFactor: number;
  maxTokens: number;
  provider: string;
  providerNotes: string[];
}

export type HostEvent =
  | { event: 'progress'; jobId: string; imagesDone: number; images: number; evaluation: number; evaluations: number; step?: number; steps?: number; sigma?: number }
  | { event: 'preview'; jobId: string; width: number; height: number; rgba: Uint8Array }
  /** A generate job's finished batch, sent as soon as it is encoded: the main side saves it at once, so a cancel or crash keeps it. */
  | { event: 'images'; jobId: string; images: HostImage[]; evaluations: number; secondsPerImage: number }
  /** The job's images came in 'images' events before this; notes are what the user should know about the run. */
  | { event: 'done'; jobId: string; evaluations: number; notes: string[]; timings: { totalMs: number; textEncoderMs: number; unetMs: number; vaeMs: number; overheadMs: number } }
  | { event: 'failed'; jobId: string; error: string; cancelled: boolean }
  | { event: 'gridCell'; jobId: string; x: number; y: number; xLabel: string; yLabel: string; image: HostImage; evaluations: number; seconds: number; done: number; total: number }
  | { event: 'gridDone'; jobId: string; csv: string }
  | { event: 'sweepPoint'; jobId: string; sampler: string; cfgScale: number; evaluations: number; secondsPerImage: number; diversity: number; accuracy: number | null; featureSpace: string; images: HostImage[]; done: number; total: number }
  | { event: 'sweepDone'; jobId: string; featureSpace: string };

export type HostReply = { id: number; result: unknown } | { id: number; error: string };
export type HostMessage = HostReply | HostEvent;
