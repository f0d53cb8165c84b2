// Starting one of the project's worker threads, from sources under tsx or from the bundled app. Bundled for
// Electron (CommonJS in out/), a worker's entry is bundled beside the code that starts it, and its code is read and
// evaluated rather than loaded by path, as only Electron's fs reads inside the app's asar. Under tsx, Node 20 does
// not apply tsx's loader to a worker's entry file, so the worker registers tsx itself, then imports the entry.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Worker, type WorkerOptions } from 'node:worker_threads';

export interface WorkerEntry {
  /** The bundle's file name in out/ (scripts/build-electron.mjs). */
  bundled: string;
  /** The TypeScript entry, as `new URL('./x.ts', import.meta.url)` in the starting module (called only under tsx). */
  source: () => URL;
  /**
   * The bundle requires modules left outside it (onnxruntime-node): it is given a require that resolves from its own
   * file's place, as evaluated code would otherwise resolve from the working folder.
   */
  requiresExternals?: boolean;
}

export function startWorker(entry: WorkerEntry, options: Omit<WorkerOptions, 'eval'> = {}): Worker {
  if (typeof __dirname === 'string') {
    const file = join(__dirname, entry.bundled);
    const bundle = readFileSync(file, 'utf8');
    const code = entry.requiresExternals
      ? `(function (require) {\n${bundle}\n})(require('node:module').createRequire(${JSON.stringify(file)}));`
      : bundle;
    return new Worker(code, { ...options, eval: true });
  }
  const tsx = import.meta.resolve('tsx/esm/api');
  const source = JSON.stringify(entry.source().href);
  const code = `import(${JSON.stringify(tsx)}).then(({ register }) => { register(); return import(${source}); })`;
  return new Worker(code, { ...options, eval: true });
}

/** How long a worker may take to say it is ready (it compiles its TypeScript under tsx first, a second or more). */
const START_TIMEOUT_MS = 60_000;

/**
 * Starts a worker that posts `{ ready: true }` once it can work, and resolves with it then, or with undefined when it
 * could not start, did not answer in time (it is ended) or ended first: the caller then does the work itself. A ready
 * worker is unref'd (idle, it never keeps the process alive; while it starts, it does, so that a process waiting for
 * it is not ended). `onMessage` gets its other messages; `onExit` runs whenever it ends, before or after it was ready.
 * (Both are listened to from the start: a listener added to a worker later refs it again.)
 */
export function startReadyWorker(
  entry: WorkerEntry,
  on: { message?: (message: unknown) => void; exit: () => void },
): Promise<Worker | undefined> {
  return new Promise((resolve) => {
    let worker: Worker;
    try {
      worker = startWorker(entry);
    } catch {
      resolve(undefined);
      return;
    }
    const startTimer = setTimeout(() => void worker.terminate(), START_TIMEOUT_MS).unref();
    worker.on('message', (message: unknown) => {
      if (!(typeof message === 'object' && message !== null && 'ready' in message)) return on.message?.(message);
      clearTimeout(startTimer);
      worker.unref();
      resolve(worker);
    });
    worker.on('error', () => undefined); // the exit that follows is what the caller hears
    worker.once('exit', () => {
      clearTimeout(startTimer);
      on.exit();
      resolve(undefined);
    });
  });
}
