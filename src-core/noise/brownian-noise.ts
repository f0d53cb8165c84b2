// k-diffusion's BrownianTreeNoiseSampler as A1111 makes it for its SDE samplers (create_noise_sampler): one Brownian
// tree per image of the batch, its entropy the image's seed, spanning the run's schedule from its smallest positive
// sigma to its largest; the noise for a step from sigma to sigma' is (W(sigma') - W(sigma)) / sqrt(|sigma' - sigma|),
// a standard normal draw that does not depend on the batch, the step count's neighbours or the order of queries.
// Times are float32, as A1111's sigmas are: the nearest float32 to the engine's float64 sigma. (A1111 computes DPM++
// SDE's midpoint sigma with float32 exp and log, whose last bit depends on the device; a tree resolves times to 6
// decimals, so such a bit can move a query by 1e-6, and the noise by about 1e-3.)
import { BrownianTree, type SeededRandn } from './brownian-tree.ts';
import { createNoiseStream } from './index.ts';
import type { IntervalNoise } from '../samplers/types.ts';

const f = Math.fround;

/** The tree's draws from the named noise source: A1111 replaces torchsde's randn with its own RNG setting's. */
export const sourceRandn =
  (source: string): SeededRandn =>
  (seed, count) =>
    createNoiseStream(source, seed).randn(count);

export interface BrownianSpan {
  min: number;
  max: number;
}

/** The span A1111 gives the trees: the schedule's smallest positive sigma and its largest, in float32. */
export function brownianSpan(sigmas: readonly number[]): BrownianSpan {
  const positive = sigmas.filter((s) => s > 0);
  if (positive.length === 0) throw new RangeError('a Brownian tree needs a schedule with a positive sigma');
  return { min: f(Math.min(...positive)), max: f(Math.max(...sigmas)) };
}

/** k-diffusion's BrownianTreeNoiseSampler over one tree per seed, each `perImage` values, laid out batch-major. */
export function brownianNoise(seeds: readonly number[], perImage: number, span: BrownianSpan, randn: SeededRandn): IntervalNoise {
  const trees = seeds.map((seed) => new BrownianTree(span.min, span.max, perImage, seed, randn));
  return (sigma, sigmaNext) => {
    const a = f(sigma),
      b = f(sigmaNext);
    const [lo, hi, sign] = a < b ? [a, b, 1] : [b, a, -1];
    const scale = f(Math.sqrt(f(hi - lo)));
    const out = new Float64Array(seeds.length * perImage);
    if (scale === 0) return out; // no step, no noise (k-diffusion would divide 0 by 0)
    trees.forEach((tree, k) => {
      const w = tree.increment(lo, hi);
      for (let i = 0; i < perImage; i++) out[k * perImage + i] = f((sign * w[i]) / scale);
    });
    return out;
  };
}

/**
 * The interval noise of a run as A1111 makes it (create_noise_sampler) for samplers that take it (DPM++ SDE, 2M SDE,
 * 3M SDE): a tree per image seeded with the image's seed (not its variation seed), drawing from the request's noise
 * source, over the whole schedule (img2img's and hires fix's too, not only the part they run); undefined for others.
 * `make` builds the trees (the engine's noise thread answers them: noise-thread.ts brownianNoiseOf).
 */
export function planBrownianNoise(
  plan: { sampler: { brownianNoise?: boolean }; sigmas: readonly number[]; fullSchedule?: readonly number[] },
  source: string,
  seeds: number[],
  perImage: number,
  make: (source: string, seeds: number[], perImage: number, span: BrownianSpan) => IntervalNoise = (s, k, n, span) =>
    brownianNoise(k, n, span, sourceRandn(s)),
): IntervalNoise | undefined {
  if (!plan.sampler.brownianNoise) return undefined;
  return make(source, seeds, perImage, brownianSpan(plan.fullSchedule ?? plan.sigmas));
}
