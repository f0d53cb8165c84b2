import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DefaultNoiseStream } from './default-noise.ts';
import { batchNoise, createNoiseStream } from './index.ts';

test('the default source is deterministic per seed and continues its stream', () => {
  const a = new DefaultNoiseStream(42),
    b = new DefaultNoiseStream(42);
  assert.deepEqual(a.randn(10), b.randn(10));
  const whole = new DefaultNoiseStream(7).randn(9);
  const split = new DefaultNoiseStream(7);
  assert.deepEqual([...split.randn(4), ...split.randn(5)], [...whole], 'draws continue the stream, odd counts included');
  assert.notDeepEqual(new DefaultNoiseStream(1).randn(8), new DefaultNoiseStream(2).randn(8));
  assert.notDeepEqual(new DefaultNoiseStream(5).randn(8), new DefaultNoiseStream(5 + 2 ** 32).randn(8), 'seeds above 2^32 stay distinct');
});

test('the default source is standard normal', () => {
  const z = new DefaultNoiseStream(123).randn(200_000);
  const mean = z.reduce((s, v) => s + v, 0) / z.length;
  const variance = z.reduce((s, v) => s + (v - mean) ** 2, 0) / z.length;
  const tail = z.filter((v) => Math.abs(v) > 1.959964).length / z.length;
  assert.ok(Math.abs(mean) < 0.01, `mean ${mean}`);
  assert.ok(Math.abs(variance - 1) < 0.015, `variance ${variance}`);
  assert.ok(Math.abs(tail - 0.05) < 0.003, `two-sided 5% tail ${tail}`);
});

test('each image in a batch has its own stream, so results do not depend on batch size', () => {
  const together = batchNoise([createNoiseStream('default', 10), createNoiseStream('default', 11)], 6);
  const first = together(),
    second = together();
  const alone = createNoiseStream('default', 11);
  assert.deepEqual(first.subarray(6), alone.randn(6));
  assert.deepEqual(second.subarray(6), alone.randn(6));
});

test('a prefetched draw is the next one, whatever the number of prefetches before it', () => {
  const batch = batchNoise([createNoiseStream('torch-cpu', 3), createNoiseStream('torch-cpu', 4)], 5);
  const plain = [createNoiseStream('torch-cpu', 3), createNoiseStream('torch-cpu', 4)];
  const next = () => Float64Array.of(...plain[0].randn(5), ...plain[1].randn(5));
  assert.deepEqual(batch(), next());
  batch.prefetch!();
  batch.prefetch!();
  assert.deepEqual(batch(), next());
  assert.deepEqual(batch(), next());
  batch.prefetch!();
  assert.deepEqual(batch(), next());
});

test('bad seeds and unknown sources are refused', () => {
  assert.throws(() => new DefaultNoiseStream(-1), /seed must be a whole number/);
  assert.throws(() => new DefaultNoiseStream(1.5), /seed must be a whole number/);
  assert.throws(() => createNoiseStream('quantum', 1), /unknown noise source "quantum"/);
});
