// The engine's own process: owns the loaded model and its onnxruntime sessions, runs one job at a
// time, and talks to the main side by messages only. A native crash here takes only this process
// down; the main side reports it and starts a new one.
import { RequestError } from '../contract/generate.ts';
import { loadModel, type StableDiffusionModel } from '../model/model.ts';
import type { ExecutionProvider } from '../model/session.ts';
import { generate, planFor, resolveSize } from '../pipeline/txt2img.ts';
import { parseGenerateRequest } from '../contract/generate.ts';
import { SamplingCancelled } from '../samplers/types.ts';
import type { HostEvent, HostMessage, HostModelInfo, HostRequest } from './protocol.ts';

interface Port {
  send(message: HostMessage): void;
  onMessage(listener: (message: HostRequest) => void): void;
}

/** child_process.fork gives process.send; Electron's utilityProcess gives process.parentPort. */
function parentPort(): Port {
  const electronPort = (process as unknown as { parentPort?: { postMessage(m: unknown): void; on(e: 'message', l: (e: { data: unknown }) => void): void } }).parentPort;
  if (electronPort) {
    return { send: (m) => electronPort.postMessage(m), onMessage: (l) => electronPort.on('message', (e) => l(e.data as HostRequest)) };
  }
  if (!process.send) throw new Error('engine-host must run as a child process with an IPC channel');
  return { send: (m) => process.send!(m), onMessage: (l) => process.on('message', (m) => l(m as HostRequest)) };
}

const port = parentPort();
let model: StableDiffusionModel | undefined;
const queue: Array<{ jobId: string; request: unknown }> = [];
let running: { jobId: string; controller: AbortController } | undefined;

function info(m: StableDiffusionModel): HostModelInfo {
  const native = m.info.latentSize * m.info.vaeFactor;
  return { dir: m.info.dir, name: m.info.name, width: native, height: native, prediction: m.info.prediction, vaeFactor: m.info.vaeFactor, maxTokens: m.tokenizer.usableTokens };
}

function requireModel(): StableDiffusionModel {
  if (!model) throw new RequestError('no model is loaded; pick a model folder first');
  return model;
}

const emit = (event: HostEvent) => port.send(event);

async function runQueue(): Promise<void> {
  if (running) return;
  const next = queue.shift();
  if (!next) return;
  const controller = new AbortController();
  running = { jobId: next.jobId, controller };
  const { jobId } = next;
  try {
    const result = await generate(requireModel(), next.request, {
      signal: controller.signal,
      previews: true,
      onProgress: (p) => {
        if (p.preview) emit({ event: 'preview', jobId, width: p.preview.width, height: p.preview.height, rgba: p.preview.rgba });
        else emit({ event: 'progress', jobId, imagesDone: p.imagesDone, images: p.images, evaluation: p.evaluation, evaluations: p.evaluations, step: p.step, steps: p.steps, sigma: p.sigma });
      },
    });
    emit({
      event: 'done', jobId, evaluations: result.evaluations,
      images: result.images.map((i) => ({ index: i.index, seed: i.seed, width: i.width, height: i.height, parameters: i.parameters, png: new Uint8Array(i.png) })),
      timings: { totalMs: result.timings.totalMs, textEncoderMs: result.timings.textEncoderMs, unetMs: result.timings.unetMs, vaeMs: result.timings.vaeMs, overheadMs: result.timings.overheadMs },
    });
  } catch (error) {
    emit({ event: 'failed', jobId, error: (error as Error).message, cancelled: error instanceof SamplingCancelled });
  } finally {
    running = undefined;
    void runQueue();
  }
}

async function handle(request: HostRequest): Promise<unknown> {
  switch (request.method) {
    case 'load': {
      const loaded = await loadModel(request.params.dir, { provider: request.params.provider as ExecutionProvider });
      const previous = model;
      model = loaded;
      await previous?.dispose();
      return info(loaded);
    }
    case 'info': return model ? info(model) : null;
    case 'count': {
      const m = requireModel();
      return { tokens: m.tokenizer.countTokens(request.params.prompt), max: m.tokenizer.usableTokens };
    }
    case 'plan': {
      const m = requireModel();
      const p = request.params;
      const parsed = parseGenerateRequest({ prompt: '', seed: 0, sampler: p.sampler, schedule: p.schedule, steps: p.steps, cfgScale: p.cfgScale, ...(p.restart ? { restart: p.restart } : {}) });
      const plan = planFor(m, parsed);
      return { evaluations: plan.evaluations, sigmas: plan.sigmas };
    }
    case 'generate': {
      // Refuse bad requests (schema, size, sampler settings on this model) before queueing.
      const parsed = parseGenerateRequest(request.params.request);
      resolveSize(requireModel(), parsed);
      planFor(requireModel(), parsed);
      queue.push({ jobId: request.params.jobId, request: request.params.request });
      void runQueue();
      return { jobId: request.params.jobId };
    }
    case 'cancel': {
      const { jobId } = request.params;
      if (running?.jobId === jobId) { running.controller.abort(); return { cancelled: true }; }
      const index = queue.findIndex((j) => j.jobId === jobId);
      if (index >= 0) {
        queue.splice(index, 1);
        emit({ event: 'failed', jobId, error: 'generation cancelled', cancelled: true });
        return { cancelled: true };
      }
      return { cancelled: false };
    }
    case 'crash':
      // For crash-isolation tests only: die the way a native fault would.
      process.kill(process.pid, 'SIGKILL');
      return null;
    default:
      throw new Error(`unknown engine method ${(request as { method: string }).method}`);
  }
}

port.onMessage((request) => {
  handle(request).then(
    (result) => port.send({ id: request.id, result }),
    (error: Error) => port.send({ id: request.id, error: error.message }),
  );
});
