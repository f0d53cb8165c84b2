// The worker thread behind noise-thread.ts: it holds one batch's streams per job and draws them, on request, into the
// memory it shares with the main thread, then counts the draw done there (Atomics), where the main thread waits. A
// tree job holds a batch's Brownian trees (brownian-noise.ts) and answers a step's interval the same way.
import { parentPort } from 'node:worker_threads';
import { brownianNoise, sourceRandn } from './brownian-noise.ts';
import type { NoiseStream } from './index.ts';
import type { IntervalNoise } from '../samplers/types.ts';
import { imageStreams, type StreamChanges } from './variation.ts';

export interface NoiseOpen {
  id: number;
  source: string;
  seeds: number[];
  perImage: number;
  /** [draws done: int32, pad, then seeds.length * perImage float64 values]; -1 as the count: the job failed. */
  shared: SharedArrayBuffer;
  /** Variation seeds, seed resize, ENSD (variation.ts imageStreams). */
  changes: StreamChanges;
}
/** A batch's Brownian trees (brownian-noise.ts brownianNoise's arguments); `shared` as NoiseOpen's. */
export interface TreeOpen {
  id: number;
  source: string;
  seeds: number[];
  perImage: number;
  span: { min: number; max: number };
  shared: SharedArrayBuffer;
}
export type NoiseMessage =
  | { open: NoiseOpen }
  | { draw: number }
  | { treeOpen: TreeOpen }
  | { interval: { id: number; sigma: number; sigmaNext: number } }
  | { close: number };
export type NoiseReply = { ready: true };

interface Job {
  streams: NoiseStream[];
  perImage: number;
  done: Int32Array;
  values: Float64Array;
}

const port = parentPort;
if (!port) throw new Error('noise-worker must run as a worker thread');
const jobs = new Map<number, Job>();
const trees = new Map<number, { noise: IntervalNoise; done: Int32Array; values: Float64Array }>();

port.on('message', (message: NoiseMessage) => {
  if ('open' in message) {
    const { id, source, seeds, perImage, shared, changes } = message.open;
    const done = new Int32Array(shared, 0, 1);
    try {
      const streams = imageStreams(source, seeds, changes);
      jobs.set(id, { streams, perImage, done, values: new Float64Array(shared, 8, seeds.length * perImage) });
    } catch {
      fail(done);
    }
  } else if ('draw' in message) {
    const job = jobs.get(message.draw);
    if (!job) return;
    try {
      // As batchNoise draws: perImage values from each image's stream in turn, laid out batch-major.
      job.streams.forEach((stream, i) => job.values.set(stream.randn(job.perImage), i * job.perImage));
      Atomics.add(job.done, 0, 1);
      Atomics.notify(job.done, 0);
    } catch {
      jobs.delete(message.draw);
      fail(job.done);
    }
  } else if ('treeOpen' in message) {
    const { id, source, seeds, perImage, span, shared } = message.treeOpen;
    const done = new Int32Array(shared, 0, 1);
    try {
      const noise = brownianNoise(seeds, perImage, span, sourceRandn(source));
      trees.set(id, { noise, done, values: new Float64Array(shared, 8, seeds.length * perImage) });
    } catch {
      fail(done);
    }
  } else if ('interval' in message) {
    const { id, sigma, sigmaNext } = message.interval;
    const job = trees.get(id);
    if (!job) return;
    try {
      job.values.set(job.noise(sigma, sigmaNext));
      Atomics.add(job.done, 0, 1);
      Atomics.notify(job.done, 0);
    } catch {
      trees.delete(id);
      fail(job.done);
    }
  } else {
    jobs.delete(message.close);
    trees.delete(message.close);
  }
});

function fail(done: Int32Array): void {
  Atomics.store(done, 0, -1);
  Atomics.notify(done, 0);
}

port.postMessage({ ready: true } satisfies NoiseReply);
