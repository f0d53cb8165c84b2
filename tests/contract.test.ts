// The contract's choice lists must match what the engine implements; its requests refuse what would make no sense.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NOISE_SOURCE_CHOICES, SAMPLER_CHOICES, SCHEDULE_CHOICES, PROVIDER_CHOICES } from '../src-core/contract/generate.ts';
import { SAMPLER_NAMES } from '../src-core/samplers/index.ts';
import { NOISE_SOURCES } from '../src-core/noise/index.ts';
import { SCHEDULE_NAMES } from '../src-core/schedule/schedules.ts';
import { EXECUTION_PROVIDERS } from '../src-core/model/session.ts';
import { SweepRequestSchema } from '../src-core/contract/experiments.ts';

test('contract choices match the engine', () => {
  assert.deepEqual([...SAMPLER_CHOICES].sort(), [...SAMPLER_NAMES].sort());
  assert.deepEqual([...NOISE_SOURCE_CHOICES].sort(), Object.keys(NOISE_SOURCES).sort());
  for (const s of SCHEDULE_CHOICES) assert.ok((SCHEDULE_NAMES as readonly string[]).includes(s), s);
  assert.deepEqual([...PROVIDER_CHOICES], ['auto', ...EXECUTION_PROVIDERS]);
});

test('a sweep request that lists a CFG scale or a sampler twice is refused, naming it', () => {
  const base = { prompt: 'a red circle', cfgScales: [1, 2], samplers: ['euler', 'heun'] };
  assert.equal(SweepRequestSchema.safeParse(base).success, true);
  for (const [change, message] of [
    [{ cfgScales: [1, 2, 2] }, /^2 is listed twice$/],
    [{ samplers: ['euler', 'heun', 'euler'] }, /^euler is listed twice$/],
  ] as const) {
    const result = SweepRequestSchema.safeParse({ ...base, ...change });
    assert.equal(result.success, false);
    assert.match(result.error!.issues[0].message, message);
  }
});
