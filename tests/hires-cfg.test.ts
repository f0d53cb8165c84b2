// Hires fix's own CFG scale (A1111's hr_cfg, "Hires CFG Scale"): real runs on the embedded model (the same scale
// gives the same bytes, another changes the image but not the first pass, 1 runs the second pass unguided), the
// PNG key both ways, the request's limits and the CLI option.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runWithPassPreviews, withEmbeddedModel } from './helpers/hires-runs.ts';
import { parametersToRequest } from '../src-core/pipeline/metadata.ts';
import { GenerateRequestSchema } from '../src-core/contract/generate.ts';
import { parseCli } from '../src-core/cli/generate.ts';

const base = {
  prompt: 'a red circle on a blue background',
  negativePrompt: 'green',
  steps: 4,
  cfgScale: 5,
  seed: 3,
  noiseSource: 'torch-cpu' as const,
};
const hires = { scale: 1.5, steps: 2, strength: 0.6 };

const run = runWithPassPreviews;

test('the request takes a hires CFG scale from 0 to 50, refused in words outside', () => {
  const problem = (cfgScale: number) =>
    GenerateRequestSchema.safeParse({ prompt: '', seed: 1, hires: { scale: 2, cfgScale } }).error?.issues[0];
  assert.equal(problem(0), undefined);
  assert.deepEqual(problem(51)?.path, ['hires', 'cfgScale']);
  assert.match(problem(51)?.message ?? '', /<=50/);
});

test('CLI --hires-cfg sets the second pass CFG scale, and needs hires fix on', () => {
  const parsed = parseCli(['--prompt', 'x', '--seed', '1', '--hires-scale', '2', '--hires-cfg', '3.5']);
  assert.ok(parsed !== 'help');
  assert.deepEqual(parsed.request.hires, { scale: 2, cfgScale: 3.5 });
  assert.throws(() => parseCli(['--prompt', 'x', '--hires-cfg', '3']), /--hires-cfg needs --hires-scale or --hires-resize/);
});

test('real runs: the same CFG gives the same bytes; another changes the second pass only; the PNG carries it', async () => {
  await withEmbeddedModel(async (model) => {
    const plain = await run(model, { ...base, hires });
    const same = await run(model, { ...base, hires: { ...hires, cfgScale: 5 } });
    assert.ok(plain.png.equals(same.png), 'Hires CFG equal to CFG: byte-identical PNG');
    assert.doesNotMatch(plain.text, /Hires CFG Scale/);

    const other = await run(model, { ...base, hires: { ...hires, cfgScale: 9 } });
    assert.notDeepEqual(other.pixels, plain.pixels);
    assert.equal(other.previews.first.length, 4);
    assert.deepEqual(other.previews.first, plain.previews.first, 'the first pass is untouched');
    assert.notDeepEqual(other.previews.second, plain.previews.second);
    assert.match(other.text, /Hires upscaler: Latent, Hires CFG Scale: 9(,|$)/);
    assert.deepEqual(parametersToRequest(other.text).request.hires, { ...hires, upscaler: 'latent', cfgScale: 9 });

    // 1: the second pass unguided; a first pass at 1 stays as it is unguided alone (the negative prompt is encoded
    // for the guided second pass only).
    const unguided = await run(model, { ...base, hires: { ...hires, cfgScale: 1 } });
    assert.notDeepEqual(unguided.pixels, plain.pixels);
    assert.deepEqual(unguided.previews.first, plain.previews.first);
    const firstAtOne = await run(model, { ...base, cfgScale: 1, hires: { ...hires, cfgScale: 5 } });
    const allAtOne = await run(model, { ...base, cfgScale: 1, hires });
    assert.deepEqual(firstAtOne.previews.first, allAtOne.previews.first);
    assert.notDeepEqual(firstAtOne.pixels, allAtOne.pixels);
    assert.match(firstAtOne.text, /CFG scale: 1,.*Hires CFG Scale: 5/);
  });
});

test('"Hires CFG Scale" from A1111 (Forge) infotext; one out of range is noted and left out', () => {
  const read = parametersToRequest('a cat\nSteps: 20, CFG scale: 7, Seed: 1, Hires upscale: 2, Hires CFG Scale: 4.5');
  assert.deepEqual(read.request.hires, { scale: 2, cfgScale: 4.5 });
  const bad = parametersToRequest('a cat\nSteps: 20, Seed: 1, Hires upscale: 2, Hires CFG Scale: 99');
  assert.deepEqual(bad.request.hires, { scale: 2 });
  assert.match(bad.notes.join('\n'), /"Hires CFG Scale: 99" is not a CFG scale from 0 to 50; ignored/);
});
