import { test } from 'node:test';
import assert from 'node:assert/strict';
import { base64ToBytes, blobToBase64, bytesToBase64 } from './base64.ts';

test('base64 round-trips every byte value and agrees with Node', () => {
  const bytes = new Uint8Array(256 * 3).map((_, i) => i % 256);
  const b64 = bytesToBase64(bytes);
  assert.equal(b64, Buffer.from(bytes).toString('base64'));
  assert.deepEqual(base64ToBytes(b64), bytes);
});

test('base64 handles empty input and inputs larger than one chunk', () => {
  assert.equal(bytesToBase64(new Uint8Array(0)), '');
  const big = new Uint8Array(100_001).map((_, i) => (i * 7) & 0xff);
  assert.equal(bytesToBase64(big), Buffer.from(big).toString('base64'));
});

test('blobToBase64 reads a Blob', async () => {
  const blob = new Blob([new Uint8Array([137, 80, 78, 71])]);
  assert.equal(await blobToBase64(blob), 'iVBORw==');
});
