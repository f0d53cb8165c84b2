// The engine's own process: owns the loaded model and its onnxruntime sessions, runs one job at a
// time, and talks to the main side by messages only. A native crash here takes only this process
// down; the main side reports it and starts a new one.
import { RequestError, type GenerateRequestInput } from '../contract/generate.ts';
import { loadModel, type StableDiffusionModel } from '../model/model.ts';
import type { ProviderChoice } from '../model/session.ts';
import { providerAvailability, providerLine } from '../model/providers.ts';
import { generate, planFor, resolveSize, type GeneratedImage } from '../pipeline/txt2img.ts';
import { imagesOf } from '../contract/generate.ts';
import { jobWork, refuseOverMemory, refuseOverWork, type RequestWork } from '../pipeline/request-limits.ts';
import { planJob } from '../pipeline/passes.ts';
import { PREVIEW_INTERVAL_MS } from '../pipeline/preview.ts';
import { sizeMultiple } from '../pipeline/memory.ts';
import { readImageHeader } from '../image/header.ts';
import { GridRequestSchema, SweepRequestSchema, type GridRequest, type SweepRequest } from '../contract/experiments.ts';
import { describeIssues } from '../contract/generate.ts';
import type { ZodError } from 'zod';
import { Evaluator } from '../experiments/evaluator.ts';
import { checkGridOnModel, gridCsv, gridRequests, runGrid, type GridCell } from '../experiments/grid.ts';
import { featureSpace, runSweep, sweepPointRequest, type SweepPointResult } from '../experiments/sweep.ts';
import { parseGenerateRequest, plannedRequest } from '../contract/generate.ts';
import { SamplingCancelled } from '../samplers/types.ts';
import type { HostEvent, HostImage, HostMessage, HostMethod, HostModelInfo, HostParams, HostRequest, HostResult } from './protocol.ts';
import { checkPromptSyntax } from '../prompt/syntax-check.ts';
import { passPromptSteps } from '../pipeline/prompt-steps.ts';
import { countPrompt } from '../prompt/count.ts';
import { clipSkipFor } from '../model/clip-skip.ts';
import { attachAdapters, checkAdapterNames } from '../adapters/apply.ts';
import { startPngThread } from '../png/encode-thread.ts';
import { startNoiseThread } from '../noise/noise-thread.ts';
import { progressEvents } from './progress-pace.ts';

interface Port {
  send(message: HostMessage): void;
  onMessage(listener: (message: HostRequest) => void): void;
}

/** child_process.fork gives process.send; Electron's utilityProcess gives process.parentPort. */
function parentPort(): Port {
  const electronPort = (
    process as unknown as { parentPort?: { postMessage(m: unknown): void; on(e: 'message', l: (e: { data: unknown }) => void): void } }
  ).parentPort;
  if (electronPort) {
    return { send: (m) => electronPort.postMessage(m), onMessage: (l) => electronPort.on('message', (e) => l(e.data as HostRequest)) };
  }
  if (!process.send) throw new Error('engine-host must run as a child process with an IPC channel');
  return { send: (m) => process.send!(m), onMessage: (l) => process.on('message', (m) => l(m as HostRequest)) };
}

const port = parentPort();
// Generated images become PNG files in a worker thread beside the next batch's sampling (png/encode-thread.ts).
void startPngThread();
// The samplers' noise is drawn in another thread while the UNet runs, which blocks this one (noise/noise-thread.ts).
void startNoiseThread();
let model: StableDiffusionModel | undefined;
/**
 * A queued job; it runs on the model that is loaded when its turn comes, with hooks that carry its
 * cancel signal and report its progress and previews (the same for every kind of job).
 */
type Job = { jobId: string; run: (model: StableDiffusionModel, hooks: ProgressHooks) => Promise<void> };
const queue: Job[] = [];
/**
 * `ended`: the job was cancelled and told so at once; it may still be inside a model call, whose results are dropped.
 * `delivering`: its finished batches whose PNGs are still being encoded (a cancel sends them before it says so).
 */
type RunningJob = {
  jobId: string;
  controller: AbortController;
  model: StableDiffusionModel;
  ended: boolean;
  delivering: Set<Promise<void>>;
};
let running: RunningJob | undefined;
/** Models replaced while a job was running on them: released when that job ends. */
const retired: StableDiffusionModel[] = [];
let evaluator: { dir: string; loaded: Promise<Evaluator | null> } | undefined;

function info(m: StableDiffusionModel): HostModelInfo {
  const native = m.info.latentSize * m.info.vaeFactor;
  return {
    dir: m.info.dir,
    name: m.info.name,
    width: native,
    height: native,
    prediction: m.info.prediction,
    vaeFactor: m.info.vaeFactor,
    sizeMultiple: sizeMultiple(m.info),
    maxTokens: m.tokenizer.usableTokens,
    family: m.info.family,
    provider: m.provider,
    providerNotes: m.fallbacks.map((f) => f.reason),
  };
}

let lastProviderLine: string | undefined;
/** The provider in use and why, on the terminal once (again only when it changes). */
function sayProvider(line: string): void {
  if (line !== lastProviderLine) console.log(line);
  lastProviderLine = line;
}

function requireModel(): StableDiffusionModel {
  if (!model) throw new RequestError('no model is loaded; pick a model folder first');
  return model;
}

/** The model's evaluator (models without one get pixel-space diversity only). */
function evaluatorFor(m: StableDiffusionModel): Promise<Evaluator | null> {
  if (evaluator?.dir !== m.info.dir) evaluator = { dir: m.info.dir, loaded: Evaluator.load(m.info.dir).catch(() => null) };
  return evaluator.loaded;
}

const emit = (event: HostEvent) => {
  if (running?.ended && running.jobId === event.jobId) return;
  port.send(event);
};

type ProgressHooks = ReturnType<typeof progressHooks>;

function progressHooks(job: RunningJob) {
  const { jobId, controller } = job;
  return {
    signal: controller.signal,
    previews: true,
    previewIntervalMs: PREVIEW_INTERVAL_MS,
    onEncoding: (delivered: Promise<void>) => {
      job.delivering.add(delivered);
      void delivered.then(() => job.delivering.delete(delivered));
    },
    onProgress: progressEvents((event) => emit({ ...event, jobId })),
  };
}

const hostImage = (
  i: { index?: number; seed: number; width: number; height: number; parameters: string; png: Buffer },
  index = 0,
): HostImage => ({
  index: i.index ?? index,
  seed: i.seed,
  width: i.width,
  height: i.height,
  parameters: i.parameters,
  png: new Uint8Array(i.png),
});

async function runQueue(): Promise<void> {
  if (running) return;
  const next = queue.shift();
  if (!next) return;
  if (!model) {
    emit({ event: 'failed', jobId: next.jobId, error: 'no model is loaded; pick a model folder first', cancelled: false });
    return void runQueue();
  }
  const controller = new AbortController();
  const job: RunningJob = { jobId: next.jobId, controller, model, ended: false, delivering: new Set() };
  running = job;
  try {
    await next.run(job.model, progressHooks(job));
  } catch (error) {
    emit({ event: 'failed', jobId: next.jobId, error: (error as Error).message, cancelled: error instanceof SamplingCancelled });
    job.ended = true;
  } finally {
    running = undefined;
    await releaseRetired();
    void runQueue();
  }
}

async function releaseRetired(): Promise<void> {
  for (const m of retired.splice(0)) await m.dispose().catch(() => undefined);
}

/** Each finished batch's images at once (a cancel keeps them), then the run's totals. */
function generateJob(jobId: string, request: GenerateRequestInput, initImage?: Uint8Array): Job {
  return {
    jobId,
    run: async (m, hooks) => {
      const onBatch = (images: GeneratedImage[], batch: { ms: number; evaluations: number }) =>
        emit({
          event: 'images',
          jobId,
          images: images.map((i) => hostImage(i)),
          evaluations: batch.evaluations,
          secondsPerImage: batch.ms / 1000 / Math.max(1, images.length),
        });
      const { evaluations, notes, timings } = await generate(m, request, { ...hooks, onBatch, initImage });
      const { totalMs, textEncoderMs, unetMs, vaeMs, overheadMs } = timings;
      emit({ event: 'done', jobId, evaluations, notes, timings: { totalMs, textEncoderMs, unetMs, vaeMs, overheadMs } });
    },
  };
}

/** Each cell as it is made, then the grid's CSV. */
function gridJob(jobId: string, request: GridRequest, initImage?: Uint8Array): Job {
  const onCell = (cell: GridCell, done: number, total: number) =>
    emit({
      event: 'gridCell',
      jobId,
      x: cell.x,
      y: cell.y,
      xLabel: cell.xLabel,
      yLabel: cell.yLabel,
      image: hostImage({ ...cell, ...sizeOf(cell.png) }),
      evaluations: cell.evaluations,
      seconds: cell.seconds,
      done,
      total,
    });
  return {
    jobId,
    run: async (m, hooks) => emit({ event: 'gridDone', jobId, csv: gridCsv(await runGrid(m, request, { ...hooks, onCell, initImage })) }),
  };
}

/** Each point (sampler, CFG scale) with its numbers and images, then the feature space they were measured in. */
function sweepJob(jobId: string, request: SweepRequest): Job {
  return {
    jobId,
    run: async (m, hooks) => {
      const ev = await evaluatorFor(m);
      const space = featureSpace(ev, m);
      // The event carries the measured point as is; only its images change form (stored PNGs to host images).
      const onPoint = ({ images, ...point }: SweepPointResult, done: number, total: number) =>
        emit({ event: 'sweepPoint', jobId, ...point, featureSpace: space, images: images.map((i, n) => hostImage(i, n)), done, total });
      await runSweep(m, ev, request, { ...hooks, onPoint });
      emit({ event: 'sweepDone', jobId, featureSpace: space });
    },
  };
}

function sizeOf(png: Buffer): { width: number; height: number } {
  // IHDR holds width and height right after the signature and chunk header.
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
}

/**
 * Jobs that may wait behind the running one. The app queues its own jobs and sends one at a time; a client that
 * sends hundreds would hold each one's request (an img2img source is megabytes) until its turn.
 */
export const MAX_QUEUED_JOBS = 32;

function enqueue(job: Job): { jobId: string } {
  if (queue.length >= MAX_QUEUED_JOBS) {
    throw new RequestError(`${MAX_QUEUED_JOBS} jobs are already waiting: send this one when some of them have finished`);
  }
  queue.push(job);
  void runQueue();
  return { jobId: job.jobId };
}

/** Checks one request (or grid cell, sweep point), memory estimate included; returns its work for the caps. */
function checkPlannable(input: unknown, initImage?: Uint8Array): RequestWork {
  const parsed = parseGenerateRequest(input);
  const m = requireModel();
  checkAdapterNames(m, parsed);
  clipSkipFor(m, parsed); // a clip skip the model's text encoder cannot give is refused before queueing
  const job = planJob(m, parsed, resolveSize(m, parsed));
  checkPromptSyntax(parsed, passPromptSteps(parsed, job));
  refuseOverMemory(m, parsed, job.passes);
  if (parsed.initImage) checkInitImage(parsed.initImage, initImage);
  return jobWork(job.passes, imagesOf(parsed));
}

/** An img2img source that is not an image, or too large, is refused before queueing (from its header). */
function checkInitImage(ref: string, bytes: Uint8Array | undefined): void {
  if (!bytes) throw new RequestError(`the init image ${ref} did not reach the engine`);
  try {
    readImageHeader(bytes);
  } catch (error) {
    throw new RequestError(`the init image cannot be used: ${(error as Error).message}`);
  }
}

function parseWith<T>(
  schema: { safeParse(v: unknown): { success: true; data: T } | { success: false; error: ZodError } },
  input: unknown,
): T {
  const result = schema.safeParse(input);
  if (!result.success) throw new RequestError(`invalid request: ${describeIssues(result.error)}`);
  return result.data;
}

/** One handler per host method, typed by the protocol's method map. */
type Handlers = { [M in HostMethod]: (params: HostParams<M>) => Promise<HostResult<M>> };

const handlers: Handlers = {
  load: async ({ dir, provider, adapters }) => {
    const loaded = await loadModel(dir, { provider: provider as ProviderChoice });
    if (adapters) attachAdapters(loaded, adapters);
    sayProvider(providerLine(provider, loaded.provider, loaded.fallbacks));
    if (loaded.info.unetGraphProblem) sayProvider(loaded.info.unetGraphProblem);
    const previous = model;
    model = loaded;
    // A job running on the previous model finishes on it; queued jobs run on the new one.
    if (previous && running?.model === previous) retired.push(previous);
    else await previous?.dispose();
    return info(loaded);
  },
  info: async () => (model ? info(model) : null),
  providers: async () => providerAvailability(),
  count: async ({ prompt, steps, negative }) => countPrompt(requireModel(), prompt, steps, negative),
  plan: async (p) => {
    const m = requireModel();
    const plan = planFor(m, plannedRequest(p));
    return { evaluations: plan.evaluations, sigmas: plan.sigmas };
  },
  generate: async ({ jobId, request, initImage }) => {
    // Refuse bad requests (schema, size, sampler settings on this model) before queueing.
    refuseOverWork([checkPlannable(request, initImage)], 'images');
    return enqueue(generateJob(jobId, request, initImage));
  },
  grid: async ({ jobId, request, initImage }) => {
    const grid = parseWith(GridRequestSchema, request);
    checkGridOnModel(requireModel(), grid);
    refuseOverWork(
      gridRequests(grid).map((cell) => checkPlannable(cell.request, initImage)),
      'cells',
    );
    return enqueue(gridJob(jobId, grid, initImage));
  },
  sweep: async ({ jobId, request }) => {
    const sweep = parseWith(SweepRequestSchema, request);
    const points: RequestWork[] = [];
    for (const sampler of sweep.samplers) {
      // Exactly the requests runSweep makes for each point.
      for (const cfgScale of sweep.cfgScales) points.push(checkPlannable(sweepPointRequest(sweep, sampler, cfgScale)));
    }
    refuseOverWork(points, 'sweep points');
    return enqueue(sweepJob(jobId, sweep));
  },
  cancel: async ({ jobId }) => {
    if (running?.jobId === jobId) {
      const job = running;
      job.controller.abort();
      // Batches that finished sampling go out first: their PNGs are being encoded (milliseconds).
      await Promise.all(job.delivering);
      // Then said at once: a model call in flight (prompt encoding, a first step on a large size) cannot be
      // interrupted, but its result is dropped; what finished before was sent.
      if (!job.ended) {
        emit({ event: 'failed', jobId, error: 'generation cancelled', cancelled: true });
        job.ended = true;
      }
      return { cancelled: true };
    }
    const index = queue.findIndex((j) => j.jobId === jobId);
    if (index >= 0) {
      queue.splice(index, 1);
      emit({ event: 'failed', jobId, error: 'generation cancelled', cancelled: true });
      return { cancelled: true };
    }
    return { cancelled: false };
  },
  memory: async () => {
    const gc = (globalThis as { gc?: () => void }).gc;
    gc?.();
    const m = process.memoryUsage();
    const mib = (bytes: number) => bytes / 2 ** 20;
    return { rssMiB: mib(m.rss), heapMiB: mib(m.heapUsed), externalMiB: mib(m.external), collected: gc !== undefined };
  },
  crash: async () => {
    // For crash-isolation tests only: die the way a native fault would.
    process.kill(process.pid, 'SIGKILL');
    return null;
  },
};

function run<M extends HostMethod>(method: M, params: HostParams<M>): Promise<HostResult<M>> {
  return handlers[method](params);
}

async function handle(request: HostRequest): Promise<HostResult<HostMethod>> {
  // Messages come from the main side, but a method this build does not know is refused in words.
  if (!Object.hasOwn(handlers, request.method)) throw new Error(`unknown engine method ${(request as { method: string }).method}`);
  return run(request.method, request.params);
}

port.onMessage((request) => {
  handle(request).then(
    (result) => port.send({ id: request.id, result }),
    (error: Error) => port.send({ id: request.id, error: error.message }),
  );
});
