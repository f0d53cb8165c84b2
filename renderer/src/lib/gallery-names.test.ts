import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { GalleryEntry } from '../../../src-core/contract/api.ts';
import { entryName, entryPrompt, entrySampler, filterEntries, galleryNames, samplersIn } from './gallery.ts';

const at = (h: number, m: number) => new Date(2024, 0, 1, h, m).toISOString();
const entry = (id: string, seed: number, createdAt: string, parameters: string, source?: GalleryEntry['source']): GalleryEntry => ({
  id,
  url: `/gallery/${id}`,
  createdAt,
  seed,
  width: 64,
  height: 64,
  parameters,
  evaluations: 1,
  seconds: 1,
  ...(source ? { source } : {}),
});
const params = (prompt: string, sampler: string) =>
  `${prompt}\nNegative prompt: blurry\nSteps: 20, Sampler: ${sampler}, Schedule type: Karras, CFG scale: 7, Seed: 1`;

test('an entry is named by seed, time and sampler', () => {
  const e = entry('00012-42.png', 42, at(10, 14), params('a red circle', 'Euler'));
  assert.equal(entrySampler(e), 'Euler');
  assert.equal(entryPrompt(e), 'a red circle');
  assert.equal(entryName(e), 'seed 42, 10:14, Euler');
  assert.equal(entryName(entry('00013-7.png', 7, at(9, 5), 'no parameters here')), 'seed 7, 09:05');
  assert.equal(entryPrompt(entry('x', 1, at(1, 1), 'a cat\nSteps: 3, Sampler: Heun')), 'a cat');
});

test('names tell apart images that would read the same', () => {
  const a = entry('00012-42.png', 42, at(10, 14), params('a', 'Euler'));
  const b = entry('00013-42.png', 42, at(10, 14), params('b', 'Euler'));
  const c = entry('00014-43.png', 43, at(10, 14), params('c', 'Euler'));
  const names = galleryNames([a, b, c]);
  assert.equal(names.get(c.id), 'seed 43, 10:14, Euler');
  assert.equal(names.get(a.id), 'seed 42, 10:14, Euler, #12');
  assert.equal(names.get(b.id), 'seed 42, 10:14, Euler, #13');
});

test('the filter: source, sampler, text in the prompt', () => {
  const list = [
    entry('00001-1.png', 1, at(1, 1), params('a red circle', 'Euler'), 'generate'),
    entry('00002-2.png', 2, at(1, 2), params('a blue square', 'Heun'), 'grid'),
    entry('00003-3.png', 3, at(1, 3), params('a red square', 'Euler a'), 'sweep'),
    entry('00004-4.png', 4, at(1, 4), params('old red thing', 'Euler')),
  ];
  const ids = (f: Parameters<typeof filterEntries>[1]) => filterEntries(list, f).map((e) => e.seed);
  assert.deepEqual(ids({}), [1, 2, 3, 4]);
  assert.deepEqual(ids({ source: 'grid' }), [2]);
  assert.deepEqual(ids({ source: 'generate' }), [1]);
  assert.deepEqual(ids({ sampler: 'Euler' }), [1, 4]);
  assert.deepEqual(ids({ text: 'RED' }), [1, 3, 4]);
  assert.deepEqual(ids({ text: 'blurry' }), [], 'the negative prompt is not searched');
  assert.deepEqual(ids({ text: 'red', sampler: 'Euler a', source: 'sweep' }), [3]);
  assert.deepEqual(samplersIn(list), ['Euler', 'Euler a', 'Heun']);
});
