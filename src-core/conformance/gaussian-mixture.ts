// The exact denoiser of an isotropic Gaussian mixture: its posterior mean E[x0 | x_sigma].
// Conformance vectors use it because every reference implementation can evaluate it identically.
import type { Denoiser } from '../samplers/types.ts';

export interface GaussianMixture {
  weights: number[];
  means: number[][];
  stds: number[];
}

/** D(x, sigma) for a batch of rows of length means[0].length, flattened batch-major. */
export function mixtureDenoiser(gmm: GaussianMixture): Denoiser {
  const dim = gmm.means[0].length;
  return async (x, sigma) => {
    const out = new Float64Array(x.length);
    const logp = new Array<number>(gmm.weights.length);
    for (let row = 0; row < x.length / dim; row++) {
      const xi = x.subarray(row * dim, (row + 1) * dim);
      for (let k = 0; k < gmm.weights.length; k++) {
        const variance = gmm.stds[k] ** 2 + sigma ** 2;
        let sq = 0;
        for (let j = 0; j < dim; j++) sq += (xi[j] - gmm.means[k][j]) ** 2;
        logp[k] = Math.log(gmm.weights[k]) - 0.5 * dim * Math.log(2 * Math.PI * variance) - sq / (2 * variance);
      }
      const top = Math.max(...logp);
      const post = logp.map((l) => Math.exp(l - top));
      const total = post.reduce((a, b) => a + b, 0);
      for (let k = 0; k < post.length; k++) {
        const g = post[k] / total;
        const s2 = gmm.stds[k] ** 2,
          v = s2 + sigma ** 2;
        for (let j = 0; j < dim; j++) out[row * dim + j] += (g * (s2 * xi[j] + sigma ** 2 * gmm.means[k][j])) / v;
      }
    }
    return out;
  };
}
