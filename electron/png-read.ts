// png.read off the server's event loop: a PNG from the user (or from anyone who can reach the
// server) is read in a worker thread with memory limits and a deadline, one at a time; a read that
// runs past the deadline is terminated with its worker. The caps in src-core/png keep honest work
// far under it; the worker keeps the server answering while it runs, and bounds what the caps miss.
import type { Worker } from 'node:worker_threads';
import { startWorker } from '../src-core/host/worker-thread.ts';
import type { ParametersImport } from '../src-core/pipeline/metadata.ts';
import type { PngReadJob, PngReadReply } from './png-read-worker.ts';

/** One read's deadline: the capped work takes well under a second. */
export const PNG_READ_TIMEOUT_MS = 10_000;
/** Starting the worker compiles its TypeScript under tsx (a second or more on a busy machine). */
const START_TIMEOUT_MS = 60_000;
/** An idle worker is ended after this long; the next read starts a new one. */
const IDLE_MS = 30_000;
const RESOURCE_LIMITS = { maxOldGenerationSizeMb: 256, maxYoungGenerationSizeMb: 32 };
/** Reads waiting or running at once: each holds its file (up to 48 MB) until its turn. */
export const MAX_PENDING_READS = 8;

const startReader = (): Worker =>
  startWorker(
    { bundled: 'png-read-worker.cjs', source: () => new URL('./png-read-worker.ts', import.meta.url) },
    { resourceLimits: RESOURCE_LIMITS },
  );

let worker: { thread: Worker; ready: Promise<void> } | undefined;
let idleTimer: NodeJS.Timeout | undefined;
let queue: Promise<unknown> = Promise.resolve();
let nextId = 1;
let pending = 0;

function end(): void {
  void worker?.thread.terminate();
  worker = undefined;
}

function currentWorker(): { thread: Worker; ready: Promise<void> } {
  if (worker) return worker;
  const thread = startReader();
  thread.unref(); // an idle reader never keeps the process alive
  const ready = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the PNG reader did not start')), START_TIMEOUT_MS);
    thread.once('message', () => {
      clearTimeout(timer);
      resolve();
    });
    thread.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    thread.once('exit', () => {
      clearTimeout(timer);
      reject(new Error('the PNG reader stopped while starting'));
    });
  });
  ready.catch(() => undefined); // reported to the read that waits for it
  const started = { thread, ready };
  thread.once('exit', () => {
    if (worker === started) worker = undefined;
  });
  thread.on('error', () => undefined); // the read in flight reports it; unheard, it would crash the app
  return (worker = started);
}

async function readOne(png: Buffer, deadlineMs: number): Promise<ParametersImport> {
  clearTimeout(idleTimer);
  const { thread, ready } = currentWorker();
  try {
    await ready;
  } catch (error) {
    end();
    throw new Error(`reading this PNG failed: ${(error as Error).message}`);
  }
  const id = nextId++;
  const bytes = new Uint8Array(png); // a copy of its own, transferred (Buffers may share a pool)
  try {
    return await new Promise<ParametersImport>((resolve, reject) => {
      const timer = setTimeout(() => {
        end();
        reject(new Error(`reading this PNG took longer than ${deadlineMs / 1000} s; it was abandoned`));
      }, deadlineMs);
      const settle = () => {
        clearTimeout(timer);
        thread.off('message', onMessage);
        thread.off('error', onError);
        thread.off('exit', onExit);
      };
      const onMessage = (reply: PngReadReply) => {
        if (!('id' in reply) || reply.id !== id) return;
        settle();
        if ('error' in reply) reject(new Error(reply.error));
        else resolve(reply.result);
      };
      const onError = (error: Error) => {
        settle();
        end();
        reject(new Error(`reading this PNG failed: ${error.message}`));
      };
      const onExit = () => {
        settle();
        reject(new Error('reading this PNG failed: the reader stopped'));
      };
      thread.on('message', onMessage);
      thread.on('error', onError);
      thread.on('exit', onExit);
      thread.postMessage({ id, bytes } satisfies PngReadJob, [bytes.buffer]);
    });
  } finally {
    idleTimer = setTimeout(end, IDLE_MS).unref();
  }
}

/** png.read's answer for these bytes, computed in the worker; reads queue one behind the other. */
export function readPngOffThread(png: Buffer, deadlineMs = PNG_READ_TIMEOUT_MS): Promise<ParametersImport> {
  if (pending >= MAX_PENDING_READS)
    return Promise.reject(new Error(`${MAX_PENDING_READS} PNG files are being read already; try again when they are done`));
  pending++;
  const read = queue
    .then(() => readOne(png, deadlineMs))
    .finally(() => {
      pending--;
    });
  queue = read.catch(() => undefined);
  return read;
}
