// Noise drawn in a worker thread while the UNet runs. onnxruntime-node runs a session on the main thread and its run
// blocks that thread until the device is done, so a draw made ahead on the main thread (NoiseSampler.prefetch) only
// moved in front of the UNet call: 0.4 ms per 4x64x64 image and draw, at every step of Euler a. The long-lived engine
// process starts this thread (src-core/host); it holds each batch's streams (the same source, seeds and sizes, drawn
// in the same order: the same values) and draws them into memory it shares with the main thread, which waits for a
// draw only where it is not done yet. Until the thread has started, and in processes that never start it (the command
// line), noise is drawn on the main thread. Where the thread fails or stops answering, the main thread makes the
// streams again, skips the draws already taken, and draws the rest itself: the values stay the same.
import type { Worker } from 'node:worker_threads';
import { startReadyWorker } from '../host/worker-thread.ts';
import type { IntervalNoise, NoiseSampler } from '../samplers/types.ts';
import { brownianNoise, sourceRandn, type BrownianSpan } from './brownian-noise.ts';
import { batchNoise, createNoiseStream } from './index.ts';
import type { NoiseMessage } from './noise-worker.ts';
import { imageStreams, type StreamChanges } from './variation.ts';

/** How long a draw may take before the thread counts as gone (a draw of a batch of 8 SDXL latents takes ~20 ms). */
const DRAW_TIMEOUT_MS = 10_000;

/** The main thread's own draws of a batch's streams, the first `skip` draws thrown away. */
function drawnHere(source: string, seeds: number[], perImage: number, first: StreamChanges, skip = 0): NoiseSampler {
  const noise = batchNoise(imageStreams(source, seeds, first), perImage);
  for (let i = 0; i < skip; i++) noise();
  return noise;
}

/** Waits until `done` counts `draws` draws; false when the job failed (-1) or the thread did not answer in time. */
function waitForDraw(done: Int32Array, draws: number): boolean {
  const deadline = performance.now() + DRAW_TIMEOUT_MS;
  for (;;) {
    const count = Atomics.load(done, 0);
    if (count >= draws) return true;
    const left = deadline - performance.now();
    if (count < 0 || left <= 0) return false;
    Atomics.wait(done, 0, count, left);
  }
}

/** Whether this thread may wait with Atomics.wait (Node's main thread may; a browser's main thread may not). */
function canBlock(): boolean {
  try {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 1, 0);
    return true;
  } catch {
    return false;
  }
}

class NoiseThread {
  private worker: Worker | undefined;
  private started: Promise<void> | undefined;
  private ready = false;
  private nextId = 1;
  /** Benchmarks' switch: new samplers draw on the main thread, as where the thread never started. */
  here = false;
  /** A sampler the garbage collector took closes its job in the thread (its streams and shared memory). */
  private readonly closer = new FinalizationRegistry<number>((id) => this.post({ close: id }));

  /** Starts the thread once; resolves when it can draw, or when it could not start (noise is then drawn here). */
  start(): Promise<void> {
    if (!canBlock()) return Promise.resolve();
    const entry = { bundled: 'noise-worker.cjs', source: () => new URL('./noise-worker.ts', import.meta.url) };
    // The thread never keeps the process alive: the main thread waits for its draws itself.
    this.started ??= startReadyWorker(entry, { exit: () => this.stopped() }).then((worker) => {
      if (!worker) return;
      this.worker = worker;
      this.ready = true;
    });
    return this.started;
  }

  /**
   * One batch's noise: one stream per seed, `perImage` values of each per draw, batch-major (batchNoise's layout and
   * values). `prefetch` has the thread draw the next one while the main thread runs the UNet.
   */
  sampler(source: string, seeds: number[], perImage: number, first: StreamChanges): NoiseSampler {
    if (!this.ready || this.here) return drawnHere(source, seeds, perImage, first);
    // Made here too (the thread makes its own), so that a bad source or seed is refused by the caller's own call.
    imageStreams(source, seeds, first);
    const { id, worker, shared, done, values } = this.job(seeds.length * perImage);
    this.post({ open: { id, source, seeds, perImage, shared, changes: first } });
    let asked = 0,
      taken = 0;
    let here: NoiseSampler | undefined;
    // One draw in the shared memory at a time: the next is asked for once the last was taken (copied out).
    const ask = () => {
      if (asked > taken) return;
      asked++;
      this.post({ draw: id });
    };
    // The next draw: the shared memory itself (valid until the next one is asked for), or the main thread's draw.
    const next = (): Float64Array => {
      if (!here && this.worker !== worker) here = drawnHere(source, seeds, perImage, first, taken); // the thread has ended
      if (!here) {
        ask();
        if (waitForDraw(done, taken + 1)) {
          taken++;
          return values;
        }
        if (Atomics.load(done, 0) >= 0) this.stop(); // it did not answer in time
        here = drawnHere(source, seeds, perImage, first, taken);
      }
      return here();
    };
    const noise: NoiseSampler = () => {
      const z = next();
      return z === values ? values.slice() : z;
    };
    noise.borrow = next;
    noise.prefetch = () => (here || this.worker !== worker ? undefined : ask());
    this.closer.register(noise, id);
    return noise;
  }

  /**
   * A batch's Brownian trees (brownian-noise.ts brownianNoise): `prefetch(sigma, sigmaNext)` has the thread answer that
   * interval while the main thread runs the UNet, and the call for it takes the answer. Any other interval, and every
   * one once the thread has ended, is answered here: a tree's answers do not depend on what it was asked before.
   */
  intervalNoise(source: string, seeds: number[], perImage: number, span: BrownianSpan): IntervalNoise {
    let local: IntervalNoise | undefined;
    const here = () => (local ??= brownianNoise(seeds, perImage, span, sourceRandn(source)));
    if (!this.ready || this.here) return here();
    for (const seed of seeds) createNoiseStream(source, seed); // a bad source or seed is refused by the caller's own call
    const { id, worker, shared, done, values } = this.job(seeds.length * perImage);
    this.post({ treeOpen: { id, source, seeds, perImage, span, shared } });
    let asked: readonly [number, number] | undefined; // the interval the thread works on, its answer not taken yet
    let taken = 0;
    let gone = false;
    const ask = (sigma: number, sigmaNext: number) => {
      asked = [sigma, sigmaNext];
      this.post({ interval: { id, sigma, sigmaNext } });
    };
    // The thread's answer to `asked`, or undefined where it failed or did not answer in time (then it is not used again).
    const answer = (): Float64Array | undefined => {
      asked = undefined;
      if (waitForDraw(done, taken + 1)) {
        taken++;
        return values.slice();
      }
      if (Atomics.load(done, 0) >= 0) this.stop();
      gone = true;
      return undefined;
    };
    const noise: IntervalNoise = (sigma, sigmaNext) => {
      if (!gone && this.worker !== worker) gone = true;
      if (gone) return here()(sigma, sigmaNext);
      if (asked && (asked[0] !== sigma || asked[1] !== sigmaNext)) answer(); // one answer in the shared memory at a time
      if (!gone && !asked) ask(sigma, sigmaNext);
      return (!gone && answer()) || here()(sigma, sigmaNext);
    };
    noise.prefetch = (sigma, sigmaNext) => {
      if (!gone && !asked && this.worker === worker) ask(sigma, sigmaNext);
    };
    this.closer.register(noise, id);
    return noise;
  }

  /** A new job's id, the worker it goes to, and the memory it shares: [answers done: int32, pad, `count` float64s]. */
  private job(count: number) {
    const shared = new SharedArrayBuffer(8 + 8 * count);
    const done = new Int32Array(shared, 0, 1),
      values = new Float64Array(shared, 8, count);
    return { id: this.nextId++, worker: this.worker, shared, done, values };
  }

  get running(): boolean {
    return this.ready;
  }

  /** For tests: ends the thread as a crash would; samplers in use go on drawing on the main thread. */
  async terminate(): Promise<void> {
    await this.worker?.terminate();
  }

  private post(message: NoiseMessage): void {
    this.worker?.postMessage(message);
  }

  private stop(): void {
    void this.worker?.terminate();
    this.stopped();
  }

  private stopped(): void {
    this.ready = false;
    this.worker = undefined;
  }
}

const thread = new NoiseThread();

/** Long-lived engine processes start the thread when they start; resolves once it is ready (or could not start). */
export const startNoiseThread = (): Promise<void> => thread.start();

/** Whether batches' noise is drawn in the thread now. */
export const noiseThreadRunning = (): boolean => thread.running;

/**
 * A batch's noise (see NoiseThread.sampler): drawn in the thread while it runs, on the main thread otherwise. With a
 * variation, each image's first draw is varied towards its variation seed's; with a seed resize, drawn at the resize's
 * size and pasted centred; with an ENSD, later draws come from seed + delta's stream (variation.ts imageStreams).
 */
export const batchNoiseOf = (source: string, seeds: number[], perImage: number, changes: StreamChanges = {}): NoiseSampler =>
  thread.sampler(source, seeds, perImage, changes);

/** A batch's Brownian trees (NoiseThread.intervalNoise): answered in the thread while it runs, here otherwise. */
export const brownianNoiseOf = (source: string, seeds: number[], perImage: number, span: BrownianSpan): IntervalNoise =>
  thread.intervalNoise(source, seeds, perImage, span);

/** For benchmarks' A/B runs in one process: while on, new samplers draw on the main thread as without the thread. */
export const drawNoiseOnMainThread = (on: boolean): void => void (thread.here = on);

/** For tests: stops the thread as a crash would; samplers in use finish their draws on the main thread. */
export const stopNoiseThreadForTest = (): Promise<void> => thread.terminate();
