// `npm run experiment` refuses sizes it cannot measure honestly before it generates anything.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

test('more prompts than the evaluator has (336) are refused, not drawn as the first prompt again and again', () => {
  const dir = mkdtempSync(join(tmpdir(), 'experiment-args-'));
  try {
    const run = spawnSync(
      process.execPath,
      ['--import', 'tsx', 'scripts/experiment.ts', 'restart-vs-baselines', '--prompts', '337', '--seeds', '2', '--out', dir],
      { encoding: 'utf8', timeout: 60_000 },
    );
    assert.notEqual(run.status, 0, 'refused');
    assert.match(run.stderr, /--prompts 337: the evaluator's prompt set has 336 prompts/);
    assert.deepEqual(readdirSync(dir), [], 'nothing written');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
