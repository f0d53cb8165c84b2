// The experiment report's verdicts: a difference counts only against a spread of per-set differences, which one seed
// set does not have.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fdVerdicts } from '../scripts/experiment/claims.ts';
import type { FdRow } from '../scripts/experiment/settings.ts';
import { std } from '../src-core/experiments/stats.ts';

test('a paired difference from one seed set decides no claim of the experiment report', () => {
  const row = (sampler: string, family: FdRow['family'], fd: number): FdRow => ({
    sampler,
    family,
    steps: 10,
    nfe: 10,
    fd,
    fdStd: std([fd]),
    fdRuns: [fd],
    accuracy: 0.9,
    secondsPerImage: 0.1,
  });
  const [fewNfe] = fdVerdicts([row('DPM++ 2M', 'ODE', 150), row('Euler a', 'SDE', 250)]);
  assert.match(fewNfe.claim, /NFE <= 12/);
  assert.equal(fewNfe.agree, null, fewNfe.evidence);
  // Two sets with the same sign and little spread still decide it.
  const two = (sampler: string, family: FdRow['family'], runs: number[]) => ({ ...row(sampler, family, 0), fdRuns: runs });
  assert.equal(fdVerdicts([two('DPM++ 2M', 'ODE', [150, 160]), two('Euler a', 'SDE', [250, 262])])[0].agree, true);
});
