import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GenerateRequestSchema, LIMITS } from '../../../src-core/contract/generate.ts';
import { nativeSizeWarning, sizeBounds } from './image-size.ts';

test("size bounds come from the contract: the schema's minimum side, never below it for a small VAE factor", () => {
  const schemaMin = GenerateRequestSchema.shape.width.unwrap().minValue;
  assert.equal(LIMITS.minImageSide, schemaMin, 'LIMITS and the schema agree');
  assert.deepEqual(sizeBounds(4), { min: 8, max: LIMITS.imageSide, step: 4 }, 'a 4x VAE: 8, not 4');
  assert.deepEqual(sizeBounds(8), { min: 8, max: LIMITS.imageSide, step: 8 });
  assert.deepEqual(sizeBounds(16), { min: 16, max: LIMITS.imageSide, step: 16 });
  assert.equal(sizeBounds(3).min, 9, 'the smallest multiple of the factor the contract accepts');
});

test('a size far from the native one is warned about, in words', () => {
  const native = { width: 64, height: 64 };
  assert.equal(nativeSizeWarning(64, 64, native), null);
  assert.equal(nativeSizeWarning(128, 32, native), null, 'exactly 2x and 1/2 are fine');
  const big = nativeSizeWarning(512, 768, native);
  assert.match(big ?? '', /512×768/);
  assert.match(big ?? '', /64×64/);
  assert.match(big ?? '', /slow/);
  assert.match(big ?? '', /memory/);
  assert.match(big ?? '', /duplicated/);
  assert.match(nativeSizeWarning(64, 16, native) ?? '', /smaller/);
  assert.equal(nativeSizeWarning(null, 64, native), null);
  assert.equal(nativeSizeWarning(512, 512, null), null);
});
