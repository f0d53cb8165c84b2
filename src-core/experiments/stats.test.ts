import { test } from 'node:test';
import assert from 'node:assert/strict';
import { featureStats, frechetDistance, meanPairwiseDistance } from './stats.ts';
import { DefaultNoiseStream } from '../noise/default-noise.ts';

test('Frechet distance: zero for identical statistics, closed forms for 1-D and commuting covariances', () => {
  const a = {
    mean: [0, 1],
    cov: [
      [2, 0.5],
      [0.5, 1],
    ],
  };
  assert.ok(frechetDistance(a, a) < 1e-9);
  // N(0, 1) vs N(1, 4): 1 + 1 + 4 - 2 * 2 = 2.
  assert.ok(Math.abs(frechetDistance({ mean: [0], cov: [[1]] }, { mean: [1], cov: [[4]] }) - 2) < 1e-12);
  // Diagonal covariances: sum of (sqrt(s1) - sqrt(s2))^2 plus the mean term.
  const fd = frechetDistance(
    {
      mean: [0, 0, 0],
      cov: [
        [1, 0, 0],
        [0, 4, 0],
        [0, 0, 9],
      ],
    },
    {
      mean: [1, 2, 0],
      cov: [
        [4, 0, 0],
        [0, 4, 0],
        [0, 0, 1],
      ],
    },
  );
  assert.ok(Math.abs(fd - (1 + 4 + 1 + 0 + 4)) < 1e-9, String(fd));
  // Symmetric in its arguments even for non-commuting covariances.
  const b = {
    mean: [0.3, -1],
    cov: [
      [1, -0.7],
      [-0.7, 3],
    ],
  };
  assert.ok(Math.abs(frechetDistance(a, b) - frechetDistance(b, a)) < 1e-9);
  assert.throws(() => frechetDistance(a, { mean: [0], cov: [[1]] }), /feature sizes differ/);
});

test('feature statistics of samples recover the generating Gaussian', () => {
  const z = new DefaultNoiseStream(3);
  const samples = Array.from({ length: 20000 }, () => {
    const [u, v] = z.randn(2);
    return [1 + 2 * u, -1 + 0.5 * u + v];
  });
  const s = featureStats(samples);
  assert.ok(Math.abs(s.mean[0] - 1) < 0.05 && Math.abs(s.mean[1] + 1) < 0.05);
  assert.ok(Math.abs(s.cov[0][0] - 4) < 0.15 && Math.abs(s.cov[0][1] - 1) < 0.06 && Math.abs(s.cov[1][1] - 1.25) < 0.06);
});

test('mean pairwise distance', () => {
  assert.equal(
    meanPairwiseDistance([
      [0, 0],
      [3, 4],
      [0, 0],
    ]),
    (5 + 0 + 5) / 3,
  );
  assert.throws(() => meanPairwiseDistance([[1]]), /at least two/);
});
