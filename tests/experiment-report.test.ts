// How `npm run experiment -- restart-vs-baselines` judges its numbers against the paper's claims, checked on
// made-up results (rewritten with --report-only, so nothing is generated): settings share their seed sets, so a
// claim is decided by the per-set differences, and only when their mean is larger than their spread.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_MODEL_DIR } from '../src-core/model/default-model.ts';

type Row = [sampler: string, family: string, steps: number, nfe: number, fdRuns: number[]];

function judge(rows: Row[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'experiment-report-'));
  try {
    const fd = rows.map(([sampler, family, steps, nfe, fdRuns]) => ({
      sampler,
      family,
      steps,
      nfe,
      fd: fdRuns.reduce((a, b) => a + b) / fdRuns.length,
      fdStd: 10,
      fdRuns,
      accuracy: 0.9,
      secondsPerImage: 0.1,
    }));
    const sweep = [2, 8].flatMap((cfg) =>
      ['DPM++ 2M', 'Restart (paper SD preset)'].map((sampler) => ({
        sampler,
        cfg,
        nfe: 20,
        accuracy: 0.9,
        diversity: 20,
        diversityStd: 1,
        fd: sampler === 'DPM++ 2M' ? 300 : 200,
      })),
    );
    const meta = {
      date: '2026-12-06T00:00:00.000Z',
      model: DEFAULT_MODEL_DIR,
      training: null,
      cpu: 'test',
      cores: 2,
      node: process.version,
      prompts: 12,
      stride: 28,
      seedsPerPrompt: 4,
      seedSets: 3,
      sweepSeeds: 4,
      fdCfg: 3,
      sweepSteps: 20,
      featureSize: 64,
      floor: 50,
      sweepFloor: 50,
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

test('a consistent per-set win counts even when each setting alone varies a lot across seed sets', () => {
  const report = judge([
    ['DPM++ 2M', 'ODE', 10, 10, [110, 210, 310]],
    ['Euler a', 'SDE', 10, 10, [150, 260, 340]],
    ['Restart [[3,2,0.1,2]]', 'Restart', 6, 19, [100, 201, 299]],
  ]);
  assert.equal(verdict(report, 'Restart [[3,2,0.1,2]] beats the best ODE sampler within 20 evaluations'), 'Agrees');
  assert.equal(verdict(report, 'With few evaluations (NFE <= 12) ODE samplers beat the SDE sampler'), 'Agrees');
  assert.match(report, /floor of this size 50\.0|scores \*\*50\.0\*\*/);
});

test('a difference inside the spread of the per-set differences is not decidable', () => {
  const report = judge([
    ['DPM++ 2M', 'ODE', 10, 10, [130, 130, 130]],
    ['Restart [[3,2,0.1,2]]', 'Restart', 6, 19, [100, 160, 128]],
  ]);
  assert.equal(verdict(report, 'beats the best ODE sampler within 20 evaluations'), 'Not decidable');
});

test("A1111's preset below 20 steps is reported as the Heun run it is", () => {
  const report = judge([
    ['Heun', 'ODE', 10, 19, [120, 125, 130]],
    ['Restart (A1111 preset)', 'Restart', 10, 19, [120, 125, 130]],
  ]);
  assert.match(report, /at 10 steps it made exactly the images of Heun 10 steps/);
  assert.equal(verdict(report, 'Restart (A1111 preset) beats the best ODE sampler within 20 evaluations'), 'Not decidable');
});
