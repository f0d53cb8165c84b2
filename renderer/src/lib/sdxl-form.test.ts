// SDXL in the Generate form: size presets for SDXL models only (scaled to a small model's native size), and
// the original size / crop fields: empty means the default, numbers travel in the request and come back
// from a PNG's parameters.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AppInfo } from '../../../src-core/contract/api.ts';
import { applyRequest, defaultForm, formToRequest } from './form.ts';
import { SDXL_SIZES, sizePresets } from './image-size.ts';

const model = (family: 'sd' | 'sdxl' | undefined, side: number): NonNullable<AppInfo['model']> => ({
  dir: '/m',
  name: 'm',
  width: side,
  height: side,
  prediction: 'epsilon',
  vaeFactor: 8,
  maxTokens: 75,
  ...(family ? { family } : {}),
});

test('SDXL size presets: the usual aspect ratios around one megapixel, for SDXL models only', () => {
  const presets = sizePresets(model('sdxl', 1024), 8);
  assert.deepEqual(
    presets.map((p) => [p.width, p.height]),
    SDXL_SIZES.map(([w, h]) => [w, h]),
  );
  assert.equal(presets[3].label, '1216×832');
  for (const p of presets) assert.ok(Math.abs((p.width * p.height) / 2 ** 20 - 1) < 0.1, `${p.label} is about one megapixel`);
  assert.deepEqual(sizePresets(model('sd', 512), 8), []);
  assert.deepEqual(sizePresets(model(undefined, 512), 8), [], 'an engine that does not say the family: SD');
  assert.deepEqual(sizePresets(null, 8), []);
  // A 64-pixel SDXL-shaped test model gets the ratios at its own scale, in multiples of 32 pixels (4 latent cells).
  assert.deepEqual(
    sizePresets(model('sdxl', 64), 8).map((p) => p.label),
    ['64×64', '96×64', '64×96', '96×32', '32×96'],
  );
});

test('original size and crop: empty is the default, numbers go into the request and come back from a PNG', () => {
  const form = { ...defaultForm(), prompt: 'a cat', seed: 1 };
  const plain = formToRequest(form).value!;
  assert.deepEqual(
    ['originalWidth', 'originalHeight', 'cropTop', 'cropLeft'].filter((k) => k in plain),
    [],
  );
  const sized = formToRequest({ ...form, originalWidth: 2048, originalHeight: 1536, cropTop: 0, cropLeft: 64 }).value!;
  assert.deepEqual([sized.originalWidth, sized.originalHeight, sized.cropTop, sized.cropLeft], [2048, 1536, 0, 64]);
  assert.match(formToRequest({ ...form, cropTop: -8 }).error!, /Crop top must be at least 0/);
  assert.match(formToRequest({ ...form, originalWidth: 1.5 }).error!, /Original width must be a whole number/);
  const filled = applyRequest({ ...form, cropLeft: 32 }, { originalWidth: 1024, originalHeight: 768, cropTop: 16 });
  assert.deepEqual(
    [filled.originalWidth, filled.originalHeight, filled.cropTop, filled.cropLeft],
    [1024, 768, 16, null],
    'a PNG without a value was made at the default',
  );
});
