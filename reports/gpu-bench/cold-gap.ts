// What a piece of the engine's between-steps work costs right after 8.5 ms of something else, against back to back:
// the app's preview event serialized as its IPC does, a progress event, a 16 KiB copy, and nothing (two clock
// reads). The gap between two UNet calls follows an 8.5 ms wait on a GPU; on this machine the same work took 10-20
// times longer there than in a hot loop, which bounds what shaving the engine's code can win.
//   node --import tsx reports/gpu-bench/cold-gap.ts [ROUNDS]
import { serialize } from 'node:v8';
import { median } from '../../src-core/experiments/stats.ts';

const rounds = Number(process.argv[2] ?? 300);
const blocker = new Int32Array(new SharedArrayBuffer(4));
const rgba = Uint8Array.from({ length: 64 * 64 * 4 }, (_, i) => (i * 7) & 255);
const counts = { imagesDone: 0, images: 4, evaluation: 3, evaluations: 20, step: 3, steps: 20, sigma: 1.234 };
const work: Record<string, () => unknown> = {
  'preview event': () => serialize({ event: 'preview', width: 64, height: 64, rgba: rgba.slice(), progress: counts, jobId: 'bench' }),
  'progress event': () => serialize({ event: 'progress', ...counts, jobId: 'bench' }),
  '16 KiB copy': () => rgba.slice(),
  nothing: () => 0,
};
const before: Record<string, () => void> = {
  'back to back': () => {},
  'after an 8.5 ms wait (Atomics.wait, as a GPU call leaves the thread)': () => void Atomics.wait(blocker, 0, 0, 8.5),
  'after 8.5 ms of spinning (the thread stays busy)': () => {
    const end = performance.now() + 8.5;
    while (performance.now() < end);
  },
};
for (const [when, prepare] of Object.entries(before)) {
  console.log(when);
  for (const [name, run] of Object.entries(work)) {
    const times: number[] = [];
    for (let i = 0; i < rounds; i++) {
      prepare();
      const t = performance.now();
      run();
      times.push(performance.now() - t);
    }
    times.sort((a, b) => a - b);
    const us = (ms: number) => (ms * 1000).toFixed(1);
    console.log(`  ${name.padEnd(15)} median ${us(median(times))} us, 90th percentile ${us(times[Math.floor(rounds * 0.9)]!)} us`);
  }
}
