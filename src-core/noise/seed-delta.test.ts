// ENSD's streams (seed-delta.ts): the first draw is the seed's (varied, where a variation says so), every later draw
// the stream of seed + delta, in the noise thread as on the main thread; seeds past 2^53 for the torch sources.
// Whole images against A1111's run: tests/ensd.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createNoiseStream } from './index.ts';
import { batchNoiseOf, startNoiseThread } from './noise-thread.ts';
import { imageStreams } from './variation.ts';

test('with an ENSD, draws after the first come from seed + delta, alone, varied and in the thread', async () => {
  const [stream] = imageStreams('torch-cpu', [7], { seedDelta: 31337 });
  assert.deepEqual(stream.randn(40), createNoiseStream('torch-cpu', 7).randn(40));
  const later = createNoiseStream('torch-cpu', 7 + 31337);
  assert.deepEqual(stream.randn(40), later.randn(40));
  assert.deepEqual(stream.randn(9), later.randn(9), 'the later stream goes on');

  const shape = [1, 5, 8] as const;
  const variation = { seeds: [99], strength: 0.3, shape };
  const [varied] = imageStreams('torch-cpu', [7], { variation, seedDelta: 5 });
  assert.deepEqual(varied.randn(40), imageStreams('torch-cpu', [7], { variation })[0].randn(40), 'the first draw is varied');
  assert.deepEqual(varied.randn(40), createNoiseStream('torch-cpu', 12).randn(40));

  await startNoiseThread();
  const threaded = batchNoiseOf('torch-cuda', [3, 4], 20, { seedDelta: 10 });
  const here = imageStreams('torch-cuda', [3, 4], { seedDelta: 10 });
  for (let draw = 0; draw < 3; draw++) {
    const got = threaded();
    here.forEach((s, i) => assert.deepEqual(got.subarray(i * 20, (i + 1) * 20), s.randn(20), `draw ${draw} image ${i}`));
  }
});

test('seed + delta past 2^53 works for the torch sources, and a bad delta or an unsafe default seed is refused', () => {
  const seed = Number.MAX_SAFE_INTEGER;
  const [stream] = imageStreams('torch-cpu', [seed], { seedDelta: 31337 });
  stream.randn(16);
  assert.deepEqual(stream.randn(16), createNoiseStream('torch-cpu', BigInt(seed) + 31337n).randn(16));
  assert.throws(() => imageStreams('default', [seed], { seedDelta: 31337 }), /seed must be a whole number >= 0/);
  assert.throws(() => imageStreams('torch-cpu', [1], { seedDelta: -1 }), /eta noise seed delta must be a whole number >= 0/);
  assert.deepEqual(imageStreams('torch-cpu', [1], { seedDelta: 0 })[0].randn(32).length, 32);
});
