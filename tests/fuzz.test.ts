import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runFuzz } from './helpers/fuzz-run.ts';
import { modelFolder } from './helpers/model-folders.ts';

test(
  '1000 hostile payloads: each gets a specific error or a valid answer, no engine crash, valid request after succeeds',
  { timeout: 300_000 },
  async () => {
    const report = await runFuzz({
      count: Number(process.env.FUZZ_COUNT ?? 1000),
      seed: 20261126,
      model: modelFolder('tiny-sd-eps-int64'),
    });
    assert.deepEqual(report.problems, []);
    assert.equal(report.sent, report.errors + report.accepted);
    assert.ok(report.errors > report.sent * 0.8, `most payloads are invalid (${report.errors} errors of ${report.sent})`);
    assert.equal(report.enginePid.before, report.enginePid.after);
  },
);
