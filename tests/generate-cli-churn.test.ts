// `npm run generate`'s --s-churn, --s-tmin and --s-tmax: checked, set for Euler, Heun and DPM2 (with --s-noise as their
// noise multiplier), and for other samplers left out of the request with a note, as --eta is.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCli } from '../src-core/cli/generate.ts';

function parsed(...args: string[]) {
  const result = parseCli(['--prompt', 'x', '--seed', '1', ...args]);
  assert.ok(result !== 'help');
  return result;
}

test('--s-churn, --s-tmin, --s-tmax set the churn of Euler, Heun and DPM2, and --s-noise with it', () => {
  for (const sampler of ['euler', 'heun', 'dpm_2']) {
    const { request, notes } = parsed('--sampler', sampler, '--s-churn', '0.5', '--s-tmin', '0.2', '--s-tmax', '5', '--s-noise', '1.1');
    assert.deepEqual([request.sChurn, request.sTmin, request.sTmax, request.sNoise, notes], [0.5, 0.2, 5, 1.1, []], sampler);
  }
  // Hires fix's sampler reads them too.
  const hires = parsed('--sampler', 'euler_ancestral', '--hires-scale', '2', '--hires-sampler', 'heun', '--s-churn', '1');
  assert.deepEqual([hires.request.sChurn, hires.notes], [1, []]);
});

test('other samplers ignore them, with a note; bad values are refused in words', () => {
  const { request, notes } = parsed('--sampler', 'euler_ancestral', '--s-churn', '0.5', '--s-tmax', '3');
  assert.deepEqual([request.sChurn, request.sTmax], [undefined, undefined]);
  assert.deepEqual(notes, [
    '--s-churn, --s-tmax apply to the euler, heun and dpm_2 samplers only; this run samples with euler_ancestral, so they were ignored',
  ]);
  // Without churn, Euler's --s-noise changes nothing: still noted.
  assert.match(parsed('--s-noise', '0.5').notes[0]!, /^--s-noise applies to the euler_ancestral, .* this run samples with euler/);
  assert.throws(() => parsed('--s-churn', 'lots'), /--s-churn needs a number \(got "lots"\)/);
  assert.throws(() => parsed('--s-tmax', '0'), /--s-tmax 0: Too small/);
  assert.throws(() => parsed('--s-churn=-1', '--sampler', 'lms'), /--s-churn -1: Too small/);
});
