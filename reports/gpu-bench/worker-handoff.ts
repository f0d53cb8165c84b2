// What running the UNet call in a worker thread would add per call: an 8.5 ms call made on the main thread and
// blocking it (as onnxruntime-node's session.run does), against the same 8.5 ms in a worker, woken by Atomics.notify
// and awaited with Atomics.waitAsync (the main thread's event loop free meanwhile, for previews and events). Prints
// each way's time beyond the 8.5 ms, medians.
//   node --import tsx reports/gpu-bench/worker-handoff.ts [CALLS]
import { Worker } from 'node:worker_threads';
import { median } from '../../src-core/experiments/stats.ts';

const calls = Number(process.argv[2] ?? 200);
const CALL_MS = 8.5;
// [0]: a call is asked for; [1]: the call is done (2) or not (0)
const flags = new Int32Array(new SharedArrayBuffer(8));
const worker = new Worker(
  `const { workerData } = require('node:worker_threads');
   const flags = new Int32Array(workerData.buffer);
   for (;;) {
     Atomics.wait(flags, 0, 0);
     Atomics.wait(flags, 1, 0, ${CALL_MS}); // the call: nothing wakes this wait
     Atomics.store(flags, 0, 0);
     Atomics.store(flags, 1, 2);
     Atomics.notify(flags, 1);
   }`,
  { eval: true, workerData: { buffer: flags.buffer } },
);
const blocker = new Int32Array(new SharedArrayBuffer(4));
const inThread: number[] = [];
const inWorker: number[] = [];
for (let i = 0; i < calls; i++) {
  let t = performance.now();
  Atomics.wait(blocker, 0, 0, CALL_MS);
  inThread.push(performance.now() - t - CALL_MS);
  Atomics.store(flags, 1, 0);
  t = performance.now();
  Atomics.store(flags, 0, 1);
  Atomics.notify(flags, 0);
  const done = Atomics.waitAsync(flags, 1, 0);
  if (done.async) await done.value;
  inWorker.push(performance.now() - t - CALL_MS);
}
const us = (ms: number) => `${(ms * 1000).toFixed(0)} us`;
console.log(`beyond ${CALL_MS} ms per call, median of ${calls}: on the main thread ${us(median(inThread))}, in a worker ${us(median(inWorker))}`);
await worker.terminate();
