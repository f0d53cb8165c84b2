// The Compare view knows before Run that SD 2 and SDXL models ignore Clip skip (the engine refuses such an axis).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { axisOptionLabel, clipSkipAxisError, clipSkipIgnoredReason, loadedModelFamily } from './grid-clip-skip.ts';

const info = (dir: string, family?: 'sd' | 'sdxl') => ({ model: { dir, family } }) as Parameters<typeof loadedModelFamily>[0];
const models = [
  { dir: '/m/sd1', family: 'SD 1' as const },
  { dir: '/m/sd2', family: 'SD 2' as const },
  { dir: '/m/xl', family: 'SDXL' as const },
];

test("the loaded model's family: from the model list (SD 1 vs SD 2), else app.info's SDXL flag", () => {
  assert.equal(loadedModelFamily(info('/m/sd2', 'sd'), models), 'SD 2');
  assert.equal(loadedModelFamily(info('/m/sd1', 'sd'), models), 'SD 1');
  assert.equal(loadedModelFamily(info('/other', 'sdxl'), models), 'SDXL');
  assert.equal(loadedModelFamily(info('/other', 'sd'), models), null, 'SD 1 or 2: not known');
  assert.equal(loadedModelFamily(null, models), null);
});

test('a Clip skip axis on SD 2 / SDXL is marked and reported with the reason; on SD 1 or an unknown model it is not', () => {
  assert.equal(clipSkipIgnoredReason('SD 1'), null);
  assert.equal(clipSkipIgnoredReason(null), null);
  assert.equal(clipSkipIgnoredReason('SDXL'), 'this SDXL model ignores Clip skip (as in A1111): every column would be the same image');
  assert.equal(
    clipSkipAxisError('clipSkip', clipSkipIgnoredReason('SD 2')),
    'A Clip skip axis changes nothing here: this SD 2 model ignores Clip skip (as in A1111): every column would be the same image',
  );
  assert.equal(clipSkipAxisError('steps', clipSkipIgnoredReason('SDXL')), null);
  assert.equal(clipSkipAxisError('clipSkip', clipSkipIgnoredReason('SD 1')), null);
  assert.equal(axisOptionLabel('clipSkip', 'Clip skip', 'SDXL'), 'Clip skip (ignored by SDXL models)');
  assert.equal(axisOptionLabel('clipSkip', 'Clip skip', 'SD 1'), 'Clip skip');
  assert.equal(axisOptionLabel('steps', 'Steps', 'SDXL'), 'Steps');
});
