import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RANDOM_SEED, RANDOM_SEED_LIMIT, randomSeed, resolveSeed } from './seed.ts';

test('random seeds are integers in [0, 2^32)', () => {
  assert.equal(
    randomSeed(() => 0),
    0,
  );
  assert.equal(
    randomSeed(() => 0.999999999999),
    RANDOM_SEED_LIMIT - 1,
  );
  assert.equal(
    randomSeed(() => 0.5),
    2 ** 31,
  );
  for (let i = 0; i < 1000; i++) {
    const s = randomSeed();
    assert.ok(Number.isInteger(s) && s >= 0 && s < RANDOM_SEED_LIMIT);
  }
});

test('-1 and an empty field mean random; other values are sent as they are', () => {
  assert.deepEqual(
    resolveSeed(RANDOM_SEED, () => 0.25),
    { seed: 2 ** 30 },
  );
  assert.deepEqual(
    resolveSeed(null, () => 0),
    { seed: 0 },
  );
  assert.deepEqual(resolveSeed(1234), { seed: 1234 });
  assert.deepEqual(resolveSeed(0), { seed: 0 });
  assert.deepEqual(resolveSeed(2 ** 40), { seed: 2 ** 40 });
});

test('invalid seeds give a plain error', () => {
  assert.match(resolveSeed(1.5).error ?? '', /whole number/);
  assert.match(resolveSeed(-2).error ?? '', /-1 \(random\)/);
  assert.match(resolveSeed(2 ** 60).error ?? '', /at most/);
});
