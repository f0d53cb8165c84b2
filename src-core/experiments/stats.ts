// Statistics the experiments report: Gaussian feature statistics, the Frechet distance between
// them, mean pairwise distance (diversity), and median/spread helpers.
import { EigenvalueDecomposition, Matrix } from 'ml-matrix';

export interface GaussianStats {
  mean: number[];
  /** Row-major d x d covariance. */
  cov: number[][];
}

export function featureStats(features: ArrayLike<number>[]): GaussianStats {
  const n = features.length,
    d = features[0].length;
  if (n < 2) throw new RangeError('feature statistics need at least two samples');
  const mean = new Array<number>(d).fill(0);
  for (const f of features) for (let j = 0; j < d; j++) mean[j] += f[j] / n;
  const cov = Array.from({ length: d }, () => new Array<number>(d).fill(0));
  for (const f of features) {
    for (let i = 0; i < d; i++) {
      const a = f[i] - mean[i];
      for (let j = i; j < d; j++) cov[i][j] += (a * (f[j] - mean[j])) / (n - 1);
    }
  }
  for (let i = 0; i < d; i++) for (let j = 0; j < i; j++) cov[i][j] = cov[j][i];
  return { mean, cov };
}

/** Symmetric positive semi-definite square root by eigendecomposition (negative eigenvalues clipped). */
function sqrtPsd(m: Matrix): Matrix {
  const sym = m.add(m.transpose()).mul(0.5);
  const eig = new EigenvalueDecomposition(sym, { assumeSymmetric: true });
  const v = eig.eigenvectorMatrix;
  const roots = eig.realEigenvalues.map((l) => Math.sqrt(Math.max(0, l)));
  return v.mmul(Matrix.diag(roots)).mmul(v.transpose());
}

/**
 * Frechet distance between two Gaussians: |mu1 - mu2|^2 + tr(S1 + S2 - 2 (S1 S2)^(1/2)), with the
 * trace of (S1 S2)^(1/2) computed as tr((S1^(1/2) S2 S1^(1/2))^(1/2)), which is symmetric.
 */
export function frechetDistance(a: GaussianStats, b: GaussianStats): number {
  const d = a.mean.length;
  if (b.mean.length !== d) throw new RangeError(`feature sizes differ: ${d} vs ${b.mean.length}`);
  let meanTerm = 0;
  for (let i = 0; i < d; i++) meanTerm += (a.mean[i] - b.mean[i]) ** 2;
  const s1 = new Matrix(a.cov),
    s2 = new Matrix(b.cov);
  const r1 = sqrtPsd(s1);
  const cross = sqrtPsd(r1.mmul(s2).mmul(r1));
  return Math.max(0, meanTerm + s1.trace() + s2.trace() - 2 * cross.trace());
}

/** Mean Euclidean distance over all pairs: how different the images of different seeds are. */
export function meanPairwiseDistance(vectors: ArrayLike<number>[]): number {
  let total = 0,
    pairs = 0;
  for (let i = 0; i < vectors.length; i++) {
    for (let j = i + 1; j < vectors.length; j++) {
      let sq = 0;
      for (let k = 0; k < vectors[i].length; k++) sq += (vectors[i][k] - vectors[j][k]) ** 2;
      total += Math.sqrt(sq);
      pairs++;
    }
  }
  if (pairs === 0) throw new RangeError('diversity needs at least two images');
  return total / pairs;
}

export function mean(values: number[]): number {
  return values.reduce((a, b) => a + b, 0) / values.length;
}

/** Sample standard deviation (n - 1); NaN for fewer than two values, where there is no spread to estimate (not 0). */
export function std(values: number[]): number {
  if (values.length < 2) return NaN;
  const m = mean(values);
  return Math.sqrt(values.reduce((a, b) => a + (b - m) ** 2, 0) / (values.length - 1));
}

export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}
