// Generated images to PNG files in a worker thread, for the long-lived engine process (src-core/host). The pixels'
// bytes, the deflate and the chunks then all run beside the next batch's sampling, and the main thread only copies
// each image's floats into a message (the file comes back the same, byte for byte). Until the thread has started, and
// in processes that never start it (the command line's single run), images are encoded as before: rows on the main
// thread, deflate in libuv's pool. A thread that fails hands its unfinished images back to that path: none are lost.
import type { Worker } from 'node:worker_threads';
import { startReadyWorker } from '../host/worker-thread.ts';
import { toPngRows } from '../image/pixels.ts';
import { encodePngRows } from './encode.ts';
import type { PngEncodeJob, PngEncodeReply } from './encode-worker.ts';

/** A reply about one image (the thread's other message says it is ready). */
type PngEncodeDone = Exclude<PngEncodeReply, { ready: true }>;

interface Waiting {
  job: PngEncodeJob;
  /** The image's floats (the job's copy went to the thread). */
  pixels: Float32Array;
  resolve: (png: Buffer) => void;
  reject: (error: Error) => void;
}

/**
 * The PNG of one decoded image ([3, H, W] floats in [-1, 1]) with text entries, without a worker thread: the rows
 * made on this thread, the deflate in libuv's pool.
 */
export function encodeOnMainThread(pixels: Float32Array, width: number, height: number, text: Record<string, string>): Promise<Buffer> {
  return encodePngRows(toPngRows(pixels, width, height), width, height, text);
}

class PngThread {
  private worker: Worker | undefined;
  private started: Promise<void> | undefined;
  private ready = false;
  private readonly waiting = new Map<number, Waiting>();
  private nextId = 1;

  /** Starts the thread once; resolves when it can take images, or when it could not start (images then stay here). */
  start(): Promise<void> {
    const entry = { bundled: 'png-encode-worker.cjs', source: () => new URL('./encode-worker.ts', import.meta.url) };
    // An idle encoder never keeps the process alive; each image in flight holds it (see encode). When the thread
    // ends, its images are handed back.
    const on = { message: (reply: unknown) => this.settle(reply as PngEncodeDone), exit: () => this.stopped() };
    this.started ??= startReadyWorker(entry, on).then((worker) => {
      if (!worker) return;
      this.worker = worker;
      this.ready = true;
    });
    return this.started;
  }

  encode(pixels: Float32Array, width: number, height: number, text: Record<string, string>): Promise<Buffer> {
    if (!this.ready || !this.worker) return encodeOnMainThread(pixels, width, height, text);
    // A copy of its own, handed over: the decoded batch's array stays as it was.
    const job: PngEncodeJob = { id: this.nextId++, pixels: pixels.slice(), width, height, text };
    const worker = this.worker;
    return new Promise<Buffer>((resolve, reject) => {
      if (this.waiting.size === 0) worker.ref();
      this.waiting.set(job.id, { job, pixels, resolve, reject });
      worker.postMessage(job, [job.pixels.buffer as ArrayBuffer]);
    });
  }

  private settle(reply: PngEncodeDone): void {
    const waiting = this.waiting.get(reply.id);
    if (!waiting) return;
    this.waiting.delete(reply.id);
    if (this.waiting.size === 0) this.worker?.unref();
    if ('error' in reply) waiting.reject(new Error(reply.error));
    else waiting.resolve(Buffer.from(reply.png.buffer, reply.png.byteOffset, reply.png.byteLength));
  }

  /** The thread ended (it failed, or was terminated): its images are encoded here instead, and so are later ones. */
  private stopped(): void {
    this.ready = false;
    this.worker = undefined;
    for (const [id, { job, pixels, resolve, reject }] of this.waiting) {
      this.waiting.delete(id);
      encodeOnMainThread(pixels, job.width, job.height, job.text).then(resolve, reject);
    }
  }

  get running(): boolean {
    return this.ready;
  }

  /** For tests: ends the thread as a crash would. */
  async terminate(): Promise<void> {
    await this.worker?.terminate();
  }
}

const thread = new PngThread();

/** Long-lived engine processes start the thread when they start; resolves once it is ready (or could not start). */
export const startPngThread = (): Promise<void> => thread.start();

/** Whether images go to the thread now. */
export const pngThreadRunning = (): boolean => thread.running;

/** The PNG file of one decoded image with its text entries: on the thread when it is running. */
export const encodeImagePng = (pixels: Float32Array, width: number, height: number, text: Record<string, string>): Promise<Buffer> =>
  thread.encode(pixels, width, height, text);

/** For tests: stops the thread as a crash would; images in flight are finished on the main thread. */
export const stopPngThreadForTest = (): Promise<void> => thread.terminate();
