import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodePreview } from './preview.ts';

test('previews are checked before drawing', () => {
  const ok = decodePreview({ jobId: 'j', width: 2, height: 1, rgbaBase64: Buffer.from([1, 2, 3, 4, 5, 6, 7, 8]).toString('base64') });
  assert.deepEqual(ok && [...ok.rgba], [1, 2, 3, 4, 5, 6, 7, 8]);
  assert.equal(decodePreview({ jobId: 'j', width: 2, height: 2, rgbaBase64: 'AAAA' }), null);
  assert.equal(decodePreview({ jobId: 'j', width: 0, height: 2, rgbaBase64: '' }), null);
  assert.equal(decodePreview({ jobId: 'j', width: 1, height: 1, rgbaBase64: '%%%' }), null);
});
