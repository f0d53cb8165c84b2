import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { GalleryEntry } from '../../../src-core/contract/api.ts';
import { entryHref, listGallery, mergeEntries, removeEntry, sortNewest } from './gallery.ts';

const entry = (id: string, createdAt: string): GalleryEntry => ({
  id,
  url: `/gallery/${id}.png`,
  createdAt,
  seed: 1,
  width: 8,
  height: 8,
  parameters: '',
  evaluations: 1,
  seconds: 1,
});

test('newest first, stable for equal times', () => {
  const list = sortNewest([entry('a', '2024-01-01T00:00:00Z'), entry('b', '2024-03-01T00:00:00Z'), entry('c', '2024-03-01T00:00:00Z')]);
  assert.deepEqual(
    list.map((e) => e.id),
    ['b', 'c', 'a'],
  );
});

test('merging new entries replaces duplicates, removing drops one', () => {
  const list = [entry('a', '2024-01-01T00:00:00Z')];
  const merged = mergeEntries(list, [entry('b', '2024-02-01T00:00:00Z'), entry('a', '2024-01-01T00:00:00Z')]);
  assert.deepEqual(
    merged.map((e) => e.id),
    ['b', 'a'],
  );
  assert.deepEqual(
    removeEntry(merged, 'b').map((e) => e.id),
    ['a'],
  );
});

test('file address for the reveal fallback', () => {
  assert.equal(entryHref(entry('a', ''), 'http://127.0.0.1:7860/?token=x'), 'http://127.0.0.1:7860/gallery/a.png');
});

test('the whole gallery is read a page at a time, newest first, however many pages it takes', async () => {
  const all = Array.from({ length: 2500 }, (_, i) => ({ id: `${String(i).padStart(5, '0')}-1.png` }));
  for (const total of [0, 999, 1000, 2500]) {
    const asked: Array<{ offset?: number; limit?: number }> = [];
    const client = {
      call: async (_method: string, params: { offset?: number; limit?: number }) => {
        asked.push(params);
        const offset = params.offset ?? 0;
        return all.slice(0, total).slice(offset, offset + (params.limit ?? total));
      },
    } as unknown as Parameters<typeof listGallery>[0];
    const listed = await listGallery(client);
    assert.deepEqual(
      listed.map((e) => e.id),
      all.slice(0, total).map((e) => e.id),
      `${total} entries`,
    );
    assert.ok(asked.every((p) => p.limit === 1000));
    assert.equal(asked.length, Math.floor(total / 1000) + 1, `${total} entries in ${asked.length} calls`);
  }
});
