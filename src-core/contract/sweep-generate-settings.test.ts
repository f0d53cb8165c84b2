// The guidance sweep takes the Generate form's noise source, Clip skip, emphasis and ENSD, with the generate request's
// names and limits; left out, they stay out of the parsed request (each image then gets the generate default).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describeIssues, LIMITS } from './generate.ts';
import { SweepRequestSchema } from './experiments.ts';

const base = { prompt: 'a red circle', cfgScales: [1, 3], seeds: 2, steps: 4 };

function problems(request: unknown): string {
  const parsed = SweepRequestSchema.safeParse(request);
  return parsed.success ? '' : describeIssues(parsed.error);
}

test('a sweep request accepts the noise source, clip skip, emphasis and ENSD and keeps them', () => {
  const settings = { noiseSource: 'torch-cpu', clipSkip: 2, emphasis: 'no-norm', etaNoiseSeedDelta: 31337 } as const;
  const parsed = SweepRequestSchema.parse({ ...base, ...settings });
  assert.deepEqual(
    { noiseSource: parsed.noiseSource, clipSkip: parsed.clipSkip, emphasis: parsed.emphasis, etaNoiseSeedDelta: parsed.etaNoiseSeedDelta },
    settings,
  );
  // The limits' ends are taken.
  for (const noiseSource of ['default', 'torch-cpu', 'torch-cuda']) assert.equal(problems({ ...base, noiseSource }), '');
  for (const emphasis of ['original', 'no-norm', 'ignore']) assert.equal(problems({ ...base, emphasis }), '');
  assert.equal(problems({ ...base, clipSkip: 1 }), '');
  assert.equal(problems({ ...base, clipSkip: LIMITS.clipSkip }), '');
  assert.equal(problems({ ...base, etaNoiseSeedDelta: 0 }), '');
  assert.equal(problems({ ...base, etaNoiseSeedDelta: LIMITS.etaNoiseSeedDelta }), '');
  // Left out, none of the four is filled in: each image then gets the generate request's default.
  const plain = SweepRequestSchema.parse(base);
  for (const key of Object.keys(settings)) assert.equal(key in plain, false, key);
});

test('a sweep request refuses values the generate request refuses, naming the field', () => {
  const refused: Array<[string, unknown]> = [
    ['noiseSource', 'torch-mps'],
    ['clipSkip', 0],
    ['clipSkip', LIMITS.clipSkip + 1],
    ['clipSkip', 1.5],
    ['emphasis', 'strong'],
    ['etaNoiseSeedDelta', -1],
    ['etaNoiseSeedDelta', LIMITS.etaNoiseSeedDelta + 1],
    ['etaNoiseSeedDelta', 0.5],
  ];
  for (const [key, value] of refused) {
    assert.match(problems({ ...base, [key]: value }), new RegExp(`^${key}: `), `${key} ${value}`);
  }
  // Not the size: the sweep measures at the model's native size, the evaluator's.
  assert.match(problems({ ...base, width: 512 }), /width/);
});
