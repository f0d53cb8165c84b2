// How `npm run experiment -- restart-vs-baselines` judges its numbers against the paper's claims, checked on
// made-up results (rewritten with --report-only, so nothing is generated): a setting that ignores the prompts
// must not win the FD comparison, and a clear, prompt-faithful win must be called one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_MODEL_DIR } from '../src-core/model/default-model.ts';

type Row = [sampler: string, family: string, steps: number, nfe: number, fd: number, accuracy: number];

function judge(rows: Row[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'experiment-report-'));
  try {
    const fd = rows.map(([sampler, family, steps, nfe, fdValue, accuracy]) => ({
      sampler,
      family,
      steps,
      nfe,
      fd: fdValue,
      fdStd: 10,
      fdRuns: [fdValue - 10, fdValue + 10],
      accuracy,
      secondsPerImage: 0.1,
    }));
    const sweep = [1, 3].flatMap((cfg) =>
      ['Euler', 'Restart (paper SD preset)'].map((sampler) => ({ sampler, cfg, nfe: 20, accuracy: 0.9, diversity: 20, diversityStd: 1 })),
    );
    const meta = {
      date: '2026-11-26T00:00:00.000Z',
      model: DEFAULT_MODEL_DIR,
      training: null,
      cpu: 'test',
      cores: 2,
      node: process.version,
      prompts: 24,
      seedsPerPrompt: 8,
      seedSets: 3,
      fdCfg: 3,
      sweepSteps: 20,
      quick: false,
      minutes: 1,
    };
    writeFileSync(join(dir, 'results.json'), JSON.stringify({ meta, fd, sweep }));
    const run = spawnSync(
      process.execPath,
      ['--import', 'tsx', 'scripts/experiment.ts', 'restart-vs-baselines', '--report-only', '--out', dir],
      { encoding: 'utf8' },
    );
    assert.equal(run.status, 0, run.stderr);
    return readFileSync(join(dir, 'README.md'), 'utf8');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const verdict = (report: string, claim: string) =>
  report
    .split('\n')
    .find((l) => l.includes(claim))
    ?.match(/^- \*\*([^*]+)\*\*/)?.[1];

test('a Restart setting with the lowest FD but off-prompt images is excluded, not called a win', () => {
  const report = judge([
    ['Euler', 'ODE', 12, 12, 1800, 0.95],
    ['Euler a', 'SDE', 12, 12, 2000, 0.94],
    ['Restart', 'Restart', 3, 13, 1300, 0.05],
    ['Restart', 'Restart', 9, 25, 1790, 0.93],
    ['Euler', 'ODE', 24, 24, 1795, 0.95],
  ]);
  assert.match(report, /Excluded from the FD comparisons\*\* — .*Restart 3 steps \(NFE 13, FD 1300\.000, accuracy 5\.0%\)/);
  assert.equal(verdict(report, 'within 20 evaluations'), 'Not decidable');
  // NFE 25 Restart (1790) against the best ODE within 40 (1795): a gap inside the spread
  assert.equal(verdict(report, 'within 40 evaluations'), 'Not decidable');
  assert.equal(verdict(report, 'With few evaluations ODE samplers beat the SDE sampler'), 'Agrees');
});

test('a prompt-faithful Restart setting clearly under the best ODE FD agrees with the paper', () => {
  const report = judge([
    ['Euler', 'ODE', 12, 12, 1800, 0.95],
    ['Euler a', 'SDE', 12, 12, 2000, 0.94],
    ['Restart', 'Restart', 5, 17, 1500, 0.93],
  ]);
  assert.doesNotMatch(report, /Excluded/);
  assert.equal(verdict(report, 'within 20 evaluations'), 'Agrees');
});
