import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AppInfo } from '../../../src-core/contract/api.ts';
import { isCancelShortcut, isGenerateShortcut } from './keys.ts';
import { noiseSourceChoices, samplerChoices, samplerLabel, scheduleChoices } from './options.ts';
import { decodePreview } from './preview.ts';
import { debounce, latestOnly } from './timing.ts';

const key = (k: string, mods: Partial<{ ctrlKey: boolean; metaKey: boolean; altKey: boolean }> = {}) =>
  ({ key: k, ctrlKey: false, metaKey: false, altKey: false, ...mods });

test('shortcuts: Ctrl/Cmd+Enter generates, Esc cancels', () => {
  assert.ok(isGenerateShortcut(key('Enter', { ctrlKey: true })));
  assert.ok(isGenerateShortcut(key('Enter', { metaKey: true })));
  assert.ok(!isGenerateShortcut(key('Enter')));
  assert.ok(isCancelShortcut(key('Escape')));
  assert.ok(!isCancelShortcut(key('Escape', { ctrlKey: true })));
});

test('picker choices come from app.info, with fallbacks', () => {
  const info = {
    samplers: [{ name: 'euler', label: 'Euler' }, { name: 'restart', label: 'Restart' }, { name: 'unknown', label: 'X' }],
    schedules: ['normal'], noiseSources: ['default', 'torch-cpu'],
  } as unknown as AppInfo;
  assert.deepEqual(samplerChoices(info).map((c) => c.label), ['Euler', 'Restart']);
  assert.equal(samplerChoices(null).length, 6);
  assert.deepEqual(scheduleChoices(info), [{ value: 'normal', label: 'Normal' }]);
  assert.deepEqual(noiseSourceChoices(null).map((c) => c.label), ['Default', 'A1111 CPU', 'A1111 GPU / NV']);
  assert.equal(noiseSourceChoices(info).length, 2);
  assert.equal(samplerLabel(null, 'dpmpp_2m'), 'DPM++ 2M');
});

test('previews are checked before drawing', () => {
  const ok = decodePreview({ jobId: 'j', width: 2, height: 1, rgbaBase64: Buffer.from([1, 2, 3, 4, 5, 6, 7, 8]).toString('base64') });
  assert.deepEqual(ok && [...ok.rgba], [1, 2, 3, 4, 5, 6, 7, 8]);
  assert.equal(decodePreview({ jobId: 'j', width: 2, height: 2, rgbaBase64: 'AAAA' }), null);
  assert.equal(decodePreview({ jobId: 'j', width: 0, height: 2, rgbaBase64: '' }), null);
  assert.equal(decodePreview({ jobId: 'j', width: 1, height: 1, rgbaBase64: '%%%' }), null);
});

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
  await assert.rejects(run(() => Promise.reject(new Error('boom'))), /boom/);
});
