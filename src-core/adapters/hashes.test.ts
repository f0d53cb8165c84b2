// "Lora hashes" as A1111 joins them (extra_networks_lora.py: a dict keyed by the name without ':' and ','): a LoRA
// named twice is listed once, at its first place, with the last hash set for that name.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatHashList, parseHashList } from './hashes.ts';

test('formatHashList: one entry per name as A1111 cleans it, in first-seen order', () => {
  assert.equal(formatHashList([]), undefined);
  assert.equal(
    formatHashList([
      { name: 'detail', hash: 'aaaaaaaaaaaa' },
      { name: 'style:v2', hash: 'bbbbbbbbbbbb' },
      { name: 'detail', hash: 'aaaaaaaaaaaa' },
      // "stylev2" after cleaning: the same key as "style:v2", so it takes that place with its hash.
      { name: 'style,v2', hash: 'cccccccccccc' },
    ]),
    'detail: aaaaaaaaaaaa, stylev2: cccccccccccc',
  );
  assert.deepEqual(parseHashList(formatHashList([{ name: 'a', hash: '0123456789ab' }])!), [{ name: 'a', hash: '0123456789ab' }]);
});
