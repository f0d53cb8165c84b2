// `npm run generate -- --seed-resize-from WxH`: both sides go into the request; 0x0 is off and a single 0 side is off
// with a note (as A1111 treats it); a bad value is refused naming the option.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCli } from '../src-core/cli/generate.ts';

function parsed(...args: string[]) {
  const result = parseCli(['--prompt', 'x', '--seed', '1', ...args]);
  assert.ok(result !== 'help');
  return result;
}

test('--seed-resize-from sets both sides of the request, with or without a variation', () => {
  const alone = parsed('--seed-resize-from', '512x768');
  assert.equal(alone.request.seedResizeFromWidth, 512);
  assert.equal(alone.request.seedResizeFromHeight, 768);
  assert.deepEqual(alone.notes, []);
  const varied = parsed('--variation-seed', '9', '--variation-strength', '0.2', '--seed-resize-from', '640x448');
  assert.deepEqual(
    [
      varied.request.variationSeed,
      varied.request.variationStrength,
      varied.request.seedResizeFromWidth,
      varied.request.seedResizeFromHeight,
    ],
    [9, 0.2, 640, 448],
  );
});

test('a side of 0 is off: 0x0 quietly, one 0 side with a note', () => {
  const off = parsed('--seed-resize-from', '0x0');
  assert.ok(!('seedResizeFromWidth' in off.request) && !('seedResizeFromHeight' in off.request));
  assert.deepEqual(off.notes, []);
  const half = parsed('--seed-resize-from', '0x512');
  assert.ok(!('seedResizeFromWidth' in half.request));
  assert.deepEqual(half.notes, ['--seed-resize-from 0x512 has a side of 0, which turns it off (as in A1111)']);
});

test('bad --seed-resize-from values are refused naming the option', () => {
  assert.throws(() => parsed('--seed-resize-from', '512'), /--seed-resize-from must be WIDTHxHEIGHT, e\.g\. 512x768 \(got "512"\)/);
  assert.throws(() => parsed('--seed-resize-from=-8x8'), /--seed-resize-from must be WIDTHxHEIGHT/);
  assert.throws(() => parsed('--seed-resize-from', '4x512'), /--seed-resize-from 4x512: width must be 0 \(off\) or at least 8 pixels/);
  assert.throws(() => parsed('--seed-resize-from', '512x5000'), /--seed-resize-from 512x5000: height Too big/);
});
