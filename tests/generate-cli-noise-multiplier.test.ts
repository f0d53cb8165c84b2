// The generate command's --noise-multiplier (A1111's img2img "Noise multiplier"): img2img's request field, checked
// against its range, and noted and left out of the request where the run has no --init-image (as --strength is).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { parseCli } from '../src-core/cli/generate.ts';

const INIT = join(import.meta.dirname, 'fixtures', 'img2img', 'inputs', 'init-64.png');

function parsed(...args: string[]) {
  const result = parseCli(['--prompt', 'x', '--seed', '1', ...args]);
  assert.ok(result !== 'help');
  return result;
}

test("--noise-multiplier sets img2img's noise multiplier; out of range or not a number is refused in words", () => {
  const run = parsed('--init-image', INIT, '--noise-multiplier', '0.6');
  assert.equal(run.request.img2imgNoiseMultiplier, 0.6);
  assert.deepEqual(run.notes, []);
  assert.equal(parsed('--init-image', INIT, '--noise-multiplier', '0').request.img2imgNoiseMultiplier, 0);
  assert.throws(
    () => parsed('--init-image', INIT, '--noise-multiplier', '1.6'),
    /--noise-multiplier 1\.6: Too big: expected number to be <=1\.5/,
  );
  assert.throws(() => parsed('--noise-multiplier=-1'), /--noise-multiplier -1: Too small/);
  assert.throws(() => parsed('--noise-multiplier', 'lots'), /--noise-multiplier needs a number \(got "lots"\)/);
});

test('--noise-multiplier without --init-image (text to image, hires fix) is noted and left out of the request', () => {
  for (const extra of [[], ['--hires-scale', '2']]) {
    const { request, notes } = parsed('--noise-multiplier', '0.5', ...extra);
    assert.equal(request.img2imgNoiseMultiplier, undefined);
    assert.equal(notes.length, 1);
    assert.match(notes[0]!, /^--noise-multiplier applies to img2img only; this run has no --init-image, so it was ignored$/);
  }
});
