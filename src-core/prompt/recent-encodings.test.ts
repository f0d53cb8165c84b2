import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RecentMap } from './recent-encodings.ts';

test('RecentMap keeps the most recently used entries, a read counting as a use', () => {
  const map = new RecentMap<string, number>(2);
  map.set('a', 1).set('b', 2);
  assert.equal(map.get('a'), 1);
  map.set('c', 3);
  assert.deepEqual([...map.keys()], ['a', 'c'], "'b' was the least recently used");
  map.set('c', 4).set('d', 5);
  assert.deepEqual(
    [...map.entries()],
    [
      ['c', 4],
      ['d', 5],
    ],
  );
  assert.equal(map.get('missing'), undefined);
  assert.equal(map.size, 2);
});
