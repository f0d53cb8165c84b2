// The worker thread behind model imports (started by import-job.ts): one import per worker, so the
// app's event loop stays free while a model is hashed, converted and written. Progress is sent at
// most every 100 ms (and on every stage change); a 'cancel' message aborts the import, which removes
// what it wrote.
import { parentPort } from 'node:worker_threads';
import { ensureImported, type CacheProgress } from '../src-core/import/cache.ts';
import { ImportCancelled } from '../src-core/import/importer.ts';

export interface ImportRequest {
  source: string;
  cacheRoot: string;
  precision?: 'fp32' | 'fp16';
  prediction?: 'epsilon' | 'v_prediction';
  vae?: string;
  config?: string;
}

export type ImportWorkerCommand = { type: 'start'; request: ImportRequest } | { type: 'cancel' };
export type ImportWorkerReply =
  | { type: 'ready' }
  | { type: 'target'; dir: string }
  | { type: 'progress'; progress: CacheProgress }
  | { type: 'done'; dir: string; reused: boolean; notes: string[]; seconds: number }
  | { type: 'failed'; error: string; cancelled: boolean };

const PROGRESS_EVERY_MS = 100;

const port = parentPort;
if (!port) throw new Error('import-worker must run as a worker thread');
const controller = new AbortController();
const post = (reply: ImportWorkerReply) => port.postMessage(reply);

async function run(request: ImportRequest): Promise<void> {
  const started = performance.now();
  let lastSent = 0;
  let lastStage = '';
  try {
    const { source, ...rest } = request;
    const cached = await ensureImported(source, {
      ...rest,
      signal: controller.signal,
      onTarget: (dir) => post({ type: 'target', dir }),
      onProgress: (progress) => {
        const now = performance.now();
        if (progress.stage === lastStage && now - lastSent < PROGRESS_EVERY_MS && progress.bytesDone < progress.bytesTotal) return;
        [lastSent, lastStage] = [now, progress.stage];
        post({ type: 'progress', progress });
      },
    });
    post({
      type: 'done',
      dir: cached.dir,
      reused: cached.reused,
      notes: cached.result?.notes ?? cached.info.notes ?? [],
      seconds: (performance.now() - started) / 1000,
    });
  } catch (error) {
    const cancelled = error instanceof ImportCancelled || controller.signal.aborted;
    post({ type: 'failed', error: cancelled ? 'import cancelled' : (error as Error).message, cancelled });
  }
}

port.on('message', (command: ImportWorkerCommand) => {
  if (command.type === 'cancel') controller.abort();
  else void run(command.request).finally(() => port.close());
});
post({ type: 'ready' });
