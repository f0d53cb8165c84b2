import { test } from 'node:test';
import assert from 'node:assert/strict';
import { debounce, latestOnly } from './timing.ts';

test('debounce runs once with the last arguments', async () => {
  const seen: number[] = [];
  const d = debounce((n: number) => seen.push(n), 10);
  d(1);
  d(2);
  d(3);
  await new Promise((r) => setTimeout(r, 30));
  assert.deepEqual(seen, [3]);
  d(4);
  d.cancel();
  await new Promise((r) => setTimeout(r, 30));
  assert.deepEqual(seen, [3]);
});

test('latestOnly drops answers of superseded calls', async () => {
  const run = latestOnly();
  let release!: (v: string) => void;
  const slow = run(() => new Promise<string>((r) => (release = r)));
  const fast = run(async () => 'new');
  release('old');
  assert.deepEqual(await slow, { stale: true });
  assert.deepEqual(await fast, { stale: false, value: 'new' });
  const failedLate = run(() => Promise.reject(new Error('x')));
  await run(async () => 1);
  assert.deepEqual(await failedLate, { stale: true });
  await assert.rejects(
    run(() => Promise.reject(new Error('boom'))),
    /boom/,
  );
});
