// The sweep request built from the Explore form takes the Generate form's noise source, Clip skip, emphasis and ENSD
// (left out at their defaults), refuses an ENSD the engine would refuse, and the Explore view's line says which apply.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SweepRequestSchema } from '../../../src-core/contract/experiments.ts';
import { defaultForm } from './form.ts';
import { buildSweepRequest, defaultExploreForm } from './sweep.ts';
import { sweepSettingsSummary } from './sweep-generate-settings.ts';

const generateForm = () => ({ ...defaultForm(), prompt: 'a red circle' });

test("the sweep request carries the Generate form's noise source, Clip skip, emphasis and ENSD", () => {
  const form = {
    ...generateForm(),
    noiseSource: 'torch-cpu' as const,
    clipSkip: 2,
    emphasis: 'no-norm' as const,
    etaNoiseSeedDelta: 31337,
  };
  const check = buildSweepRequest(defaultExploreForm(), form);
  assert.deepEqual(check.errors, {});
  assert.ok(check.request);
  assert.equal(check.request.noiseSource, 'torch-cpu');
  assert.equal(check.request.clipSkip, 2);
  assert.equal(check.request.emphasis, 'no-norm');
  assert.equal(check.request.etaNoiseSeedDelta, 31337);
  assert.ok(SweepRequestSchema.safeParse(check.request).success);
  // The Generate form's size is not the sweep's: it runs at the model's native size.
  assert.equal('width' in check.request, false);
  // At their defaults none is written: the request reads as before the settings existed.
  const plain = buildSweepRequest(defaultExploreForm(), generateForm()).request;
  assert.ok(plain);
  for (const key of ['noiseSource', 'clipSkip', 'emphasis', 'etaNoiseSeedDelta']) assert.equal(key in plain, false, key);
});

test('an ENSD the engine would refuse stops the sweep, saying it comes from the Generate view', () => {
  for (const etaNoiseSeedDelta of [1.5, -3, 4_294_967_296]) {
    const check = buildSweepRequest(defaultExploreForm(), { ...generateForm(), etaNoiseSeedDelta });
    assert.equal(check.request, null, String(etaNoiseSeedDelta));
    assert.match(check.errors.other ?? '', /^Eta noise seed delta .*\(0: off\) \(Generate view\)$/, String(etaNoiseSeedDelta));
  }
  // Empty is off, as in the Generate form.
  assert.ok(buildSweepRequest(defaultExploreForm(), { ...generateForm(), etaNoiseSeedDelta: null }).request);
});

test("the Explore view's line names the settings in effect, and Clip skip ignored by the loaded model", () => {
  assert.equal(sweepSettingsSummary({}), null);
  assert.equal(
    sweepSettingsSummary({ noiseSource: 'torch-cpu', clipSkip: 2, emphasis: 'ignore', etaNoiseSeedDelta: 31337 }),
    'Noise A1111 CPU · Clip skip 2 · Emphasis Ignore weights · ENSD 31337',
  );
  assert.equal(sweepSettingsSummary({ clipSkip: 2 }, 'SDXL'), 'Clip skip 2 (ignored by SDXL models, as in A1111)');
  assert.equal(sweepSettingsSummary({ noiseSource: 'default', clipSkip: 1, emphasis: 'original', etaNoiseSeedDelta: 0 }), null);
});
