// numpy's SeedSequence and torchsde's BrownianTree against the references' own outputs
// (tests/fixtures/brownian/make_brownian_vectors.py: numpy, torchsde and torch's CPU generator run here).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { BrownianTree, roundDecimals } from './brownian-tree.ts';
import { seedSequenceState } from './seed-sequence.ts';
import { sourceRandn } from './brownian-noise.ts';

interface Vectors {
  seedSequence: { entropy: string; spawnKey: string[]; poolSize: number; state: number[] }[];
  trees: { entropy: number; t0: number; t1: number; count: number; queries: { ta: number; tb: number; w: number[] }[] }[];
}
const vectors = JSON.parse(
  readFileSync(new URL('../../tests/fixtures/brownian/brownian-vectors.json', import.meta.url), 'utf8'),
) as Vectors;

test("numpy's SeedSequence: generate_state for entropies and spawn keys of one and more 32-bit words", () => {
  for (const c of vectors.seedSequence) {
    const init = { entropy: BigInt(c.entropy), spawnKey: c.spawnKey.map(BigInt), poolSize: c.poolSize };
    assert.deepEqual(seedSequenceState(init, c.state.length), c.state, `entropy ${c.entropy} key ${c.spawnKey.join(',')}`);
  }
});

test("Python's round(x, 6): ties go to the even digit, other values to the nearest", () => {
  assert.equal(roundDecimals(0.0078125, 6), 0.007812); // 1/128: an exact tie
  assert.equal(roundDecimals(0.2578125, 6), 0.257812);
  assert.equal(roundDecimals(0.0234375, 6), 0.023438); // 3/128: the tie's even neighbour is above
  assert.equal(roundDecimals(14.614643096923828, 6), 14.614643);
  assert.equal(roundDecimals(0.1234565, 6), 0.123456); // below the tie in binary (0.12345649999...)
  assert.equal(roundDecimals(-0.0078125, 6), -0.007812);
});

test("torchsde's BrownianTree: every increment of every query, float32 bit for bit, in the reference's order", () => {
  for (const c of vectors.trees) {
    const tree = new BrownianTree(c.t0, c.t1, c.count, c.entropy, sourceRandn('torch-cpu'));
    for (const q of c.queries) {
      const w = tree.increment(q.ta, q.tb);
      assert.deepEqual(Array.from(w), q.w, `entropy ${c.entropy} query (${q.ta}, ${q.tb})`);
    }
  }
});

test('a Brownian tree gives the same increments whatever was asked before (the halfway tree is fixed by the entropy)', () => {
  for (const c of vectors.trees) {
    const fresh = (q: { ta: number; tb: number }) =>
      Array.from(new BrownianTree(c.t0, c.t1, c.count, c.entropy, sourceRandn('torch-cpu')).increment(q.ta, q.tb));
    for (const q of [...c.queries].reverse()) assert.deepEqual(fresh(q), q.w, `entropy ${c.entropy} query (${q.ta}, ${q.tb}) alone`);
  }
});
