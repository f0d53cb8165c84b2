import { test } from 'node:test';
import assert from 'node:assert/strict';
import { baseDetails, baseSummary } from './grid-base-summary.ts';

test('the base summary: prompt · seed · CFG, with what the axes vary said so', () => {
  const b = { prompt: 'a red circle\n on blue', seed: 7, cfgScale: 5, sampler: 'heun' as const, steps: 12, width: 64, height: 64 };
  assert.equal(baseSummary(b, { randomSeed: false, axes: ['sampler'] }), '“a red circle on blue” · seed 7 · CFG 5');
  assert.equal(baseSummary(b, { randomSeed: true, axes: ['cfgScale'] }), '“a red circle on blue” · random seed · CFG from the axis');
  assert.equal(baseSummary({ ...b, prompt: ' ' }, { randomSeed: false, axes: ['seed'] }), '(no prompt) · seed from the axis · CFG 5');
  assert.match(baseSummary({ ...b, prompt: 'x'.repeat(100) }, { randomSeed: false, axes: [] }), /^“x{47}…” ·/);
  assert.equal(
    baseDetails(b, ['steps'], (n) => n.toUpperCase()),
    'HEUN · Karras · 64×64',
  );
  assert.equal(baseDetails(b, ['sampler', 'schedule']), '12 steps · 64×64');
});

test("the base details name A1111's Clip skip, variation, seed resize and ENSD when set, leaving out what an axis varies", () => {
  const b = { prompt: 'a red circle', seed: 7, sampler: 'euler' as const, steps: 12, schedule: 'normal' as const, width: 64, height: 64 };
  const set = { ...b, clipSkip: 2, variationSeed: 100, variationStrength: 0.3, seedResizeFromWidth: 256, seedResizeFromHeight: 384 };
  assert.equal(
    baseDetails(set, ['cfgScale']),
    'euler · 12 steps · Normal · 64×64 · Clip skip 2 · Var. seed 100 · Var. strength 0.3 · Seed resize from 256×384',
  );
  assert.equal(baseDetails({ ...b, etaNoiseSeedDelta: 31337 }, ['cfgScale']), 'euler · 12 steps · Normal · 64×64 · ENSD 31337');
  assert.equal(
    baseDetails(set, ['clipSkip', 'variationSeed']),
    'euler · 12 steps · Normal · 64×64 · Var. strength 0.3 · Seed resize from 256×384',
  );
  assert.equal(
    baseDetails({ ...set, variationStrength: 0 }, ['variationStrength']),
    'euler · 12 steps · Normal · 64×64 · Clip skip 2 · Var. seed 100 · Seed resize from 256×384',
  );
  assert.equal(
    baseDetails(set, ['steps'], undefined, { randomVariationSeed: true }),
    'euler · Normal · 64×64 · Clip skip 2 · random Var. seed · Var. strength 0.3 · Seed resize from 256×384',
  );
  // Off: Clip skip 1 (the last layer), strength 0, a seed-resize side of 0.
  const off = {
    ...b,
    clipSkip: 1,
    variationSeed: 100,
    variationStrength: 0,
    seedResizeFromWidth: 0,
    seedResizeFromHeight: 384,
    etaNoiseSeedDelta: 0,
  };
  assert.equal(baseDetails(off, []), 'euler · 12 steps · Normal · 64×64');
});
