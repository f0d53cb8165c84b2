import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { InOrder } from './in-order.ts';

test('results are handed on in the order added, however long each task takes', async () => {
  const order = new InOrder<string>();
  const seen: string[] = [];
  for (const [name, ms] of [
    ['a', 30],
    ['b', 1],
    ['c', 10],
  ] as const) {
    void order.add(
      sleep(ms).then(() => name),
      (value) => void seen.push(value),
    );
  }
  await order.drain();
  assert.deepEqual(seen, ['a', 'b', 'c']);
});

test('a failure is thrown by drain, after the later tasks were still handed on', async () => {
  const order = new InOrder<number>();
  const seen: number[] = [];
  void order.add(Promise.resolve(1), (v) => void seen.push(v));
  void order.add(Promise.reject(new Error('disk full')), (v) => void seen.push(v));
  void order.add(
    sleep(5).then(() => 3),
    (v) => void seen.push(v),
  );
  void order.queue(() => {
    throw new Error('second failure');
  });
  assert.equal(order.failed, false, 'nothing has run yet');
  await assert.rejects(order.drain(), /disk full/, 'the first failure');
  assert.deepEqual(seen, [1, 3]);
  assert.equal(order.failed, true);
});

test('queued tasks run one after the other, never overlapping', async () => {
  const order = new InOrder();
  let running = 0,
    most = 0;
  for (let i = 0; i < 4; i++) {
    void order.queue(async () => {
      most = Math.max(most, ++running);
      await sleep(3);
      running--;
    });
  }
  await order.drain();
  assert.equal(most, 1);
});
