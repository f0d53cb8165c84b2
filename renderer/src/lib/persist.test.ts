import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultForm } from './form.ts';
import { applySaved, readSaved, SETTINGS_KEY, writeSaved } from './persist.ts';

class MemoryStorage {
  items = new Map<string, string>();
  getItem(k: string) {
    return this.items.get(k) ?? null;
  }
  setItem(k: string, v: string) {
    this.items.set(k, v);
  }
}

test('prompt, negative prompt, sampler, steps, CFG, size and the tab come back', () => {
  const storage = new MemoryStorage();
  const form = {
    ...defaultForm(),
    prompt: 'a red circle',
    negativePrompt: 'blurry',
    sampler: 'heun' as const,
    steps: 12,
    cfgScale: 4.5,
    width: 96,
    height: 128,
    seed: 5,
  };
  writeSaved(storage, form, 'compare');
  const saved = readSaved(storage);
  assert.equal(saved.view, 'compare');
  const back = applySaved(defaultForm(), saved);
  assert.deepEqual(
    [back.prompt, back.negativePrompt, back.sampler, back.steps, back.cfgScale, back.width, back.height],
    ['a red circle', 'blurry', 'heun', 12, 4.5, 96, 128],
  );
  assert.equal(back.seed, -1, 'the seed is not one of the kept settings');
});

test('stale or hostile values are dropped one by one; the form keeps its defaults for them', () => {
  const storage = new MemoryStorage();
  storage.setItem(
    SETTINGS_KEY,
    JSON.stringify({
      prompt: 'kept',
      negativePrompt: 42,
      sampler: 'dpm_fast',
      steps: 1e9,
      cfgScale: 'x',
      width: 64,
      height: -3,
      view: '<img onerror>',
      __proto__: { polluted: true },
    }),
  );
  const saved = readSaved(storage);
  assert.equal(saved.view, undefined);
  const back = applySaved(defaultForm(), saved);
  const d = defaultForm();
  assert.deepEqual(
    [back.prompt, back.negativePrompt, back.sampler, back.steps, back.cfgScale, back.width, back.height],
    ['kept', d.negativePrompt, d.sampler, d.steps, d.cfgScale, 64, d.height],
  );
  for (const junk of ['{', 'null', '[]', '"x"', '1']) {
    storage.setItem(SETTINGS_KEY, junk);
    assert.deepEqual(readSaved(storage), { form: {} }, junk);
  }
  assert.deepEqual(readSaved(null), { form: {} }, 'no storage (blocked) is no settings');
  const throwing = {
    getItem(): string {
      throw new Error('denied');
    },
    setItem(): void {
      throw new Error('full');
    },
  };
  assert.deepEqual(readSaved(throwing), { form: {} });
  assert.doesNotThrow(() => writeSaved(throwing, defaultForm(), 'generate'));
});

test('clip skip is kept as A1111 keeps its setting; a value outside 1..12 is dropped', () => {
  const storage = new MemoryStorage();
  writeSaved(storage, { ...defaultForm(), clipSkip: 2 }, 'generate');
  assert.equal(applySaved(defaultForm(), readSaved(storage)).clipSkip, 2);
  for (const bad of [0, 13, 1.5, '2']) {
    storage.setItem(SETTINGS_KEY, JSON.stringify({ clipSkip: bad }));
    assert.equal(applySaved(defaultForm(), readSaved(storage)).clipSkip, 1, JSON.stringify(bad));
  }
});
