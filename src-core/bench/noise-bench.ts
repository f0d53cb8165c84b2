// Time to generate one 4x64x64 latent (a 512x512 image's start noise) with each noise source in
// NOISE_SOURCES: a fresh stream per run (seeding included), median of several runs after warm-up.
// Also the cost of a later draw on the same stream (what Euler a / Restart pay per step). Not a test.
import { NOISE_SOURCES, type NoiseSourceName } from '../noise/index.ts';
import { median } from '../experiments/stats.ts';

const size = 4 * 64 * 64,
  warmup = 5,
  runs = 25;

console.log(`noise for a ${size}-value latent (4x64x64), median of ${runs} runs after ${warmup} warm-up runs`);
for (const name of Object.keys(NOISE_SOURCES) as NoiseSourceName[]) {
  const make = NOISE_SOURCES[name] as (seed: number) => { randn(count: number): Float64Array };
  const first: number[] = [],
    later: number[] = [];
  let checksum = 0;
  for (let r = 0; r < warmup + runs; r++) {
    const t0 = performance.now();
    const stream = make(1000 + r);
    const x = stream.randn(size);
    const t1 = performance.now();
    const y = stream.randn(size);
    const t2 = performance.now();
    checksum += x[r] + y[r];
    if (r >= warmup) {
      first.push(t1 - t0);
      later.push(t2 - t1);
    }
  }
  console.log(
    `${name.padEnd(11)} first draw (seed + randn) ${median(first).toFixed(2).padStart(7)} ms   ` +
      `later draw ${median(later).toFixed(2).padStart(7)} ms   (checksum ${checksum.toFixed(3)})`,
  );
}
