// Hires fix's own schedule (A1111 1.10's hr_scheduler, "Hires schedule type"): real runs on the embedded model (the
// same schedule gives the same bytes, another changes the second pass but not the first, DDIM keeps its grid), the
// PNG key both ways as A1111 writes it (only where the label differs from "Schedule type"), the request and the CLI.
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
  schedule: 'karras' as const,
  noiseSource: 'torch-cpu' as const,
};
const hires = { scale: 1.5, steps: 3, strength: 0.6 };

const run = runWithPassPreviews;

test('the request takes one of the schedules as hires.schedule, and refuses another name', () => {
  const parse = (schedule: string) => GenerateRequestSchema.safeParse({ prompt: '', seed: 1, hires: { scale: 2, schedule } });
  assert.equal(parse('exponential').data?.hires?.schedule, 'exponential');
  assert.deepEqual(parse('cosine').error?.issues[0].path, ['hires', 'schedule']);
});

test('CLI --hires-schedule sets the second pass schedule, and needs hires fix on', () => {
  const parsed = parseCli(['--prompt', 'x', '--seed', '1', '--hires-scale', '2', '--hires-schedule', 'sgm_uniform']);
  assert.ok(parsed !== 'help');
  assert.deepEqual(parsed.request.hires, { scale: 2, schedule: 'sgm_uniform' });
  assert.throws(() => parseCli(['--prompt', 'x', '--hires-schedule', 'beta']), /--hires-schedule needs --hires-scale or --hires-resize/);
  assert.throws(() => parseCli(['--prompt', 'x', '--hires-scale', '2', '--hires-schedule', 'cosine']), /hires-schedule/);
});

test('real runs: the same schedule gives the same bytes; another changes the second pass only; the PNG carries it', async () => {
  await withEmbeddedModel(async (model) => {
    const plain = await run(model, { ...base, hires });
    const same = await run(model, { ...base, hires: { ...hires, schedule: 'karras' } });
    assert.ok(plain.png.equals(same.png), 'a hires schedule equal to the schedule: byte-identical PNG');
    assert.doesNotMatch(plain.text, /Hires schedule type/);

    const other = await run(model, { ...base, hires: { ...hires, schedule: 'exponential' } });
    assert.notDeepEqual(other.pixels, plain.pixels);
    assert.equal(other.previews.first.length, 4);
    assert.deepEqual(other.previews.first, plain.previews.first, 'the first pass is untouched');
    assert.notDeepEqual(other.previews.second, plain.previews.second);
    assert.match(other.text, /Schedule type: Karras,.*Hires upscaler: Latent, Hires schedule type: Exponential(,|$)/);
    const back = parametersToRequest(other.text).request;
    assert.equal(back.schedule, 'karras');
    assert.deepEqual(back.hires, { ...hires, upscaler: 'latent', schedule: 'exponential' });

    // DDIM as the hires sampler keeps its own timestep grid: the schedule changes nothing, and nothing is written.
    const ddim = await run(model, { ...base, hires: { ...hires, sampler: 'ddim' } });
    const ddimOther = await run(model, { ...base, hires: { ...hires, sampler: 'ddim', schedule: 'exponential' } });
    assert.deepEqual(ddimOther.pixels, ddim.pixels);
    assert.doesNotMatch(ddimOther.text, /Hires schedule type/);
  });
});

test('a first pass on DDIM (no "Schedule type") writes any set hires schedule; Beta writes its alpha and beta', async () => {
  await withEmbeddedModel(async (model) => {
    const beta = await run(model, { ...base, sampler: 'ddim', hires: { ...hires, sampler: 'euler', schedule: 'beta' } });
    assert.doesNotMatch(beta.text, /Schedule type: Beta, /);
    assert.match(beta.text, /Beta schedule alpha: 0\.6, Beta schedule beta: 0\.6,.*Hires schedule type: Beta/);
  });
});

test('"Hires schedule type" from A1111 infotext: labels, Automatic as the hires sampler default, unknown noted', () => {
  const line = (extra: string) => `a cat\nSteps: 20, Sampler: Euler, Schedule type: Karras, Seed: 1, Hires upscale: 2, ${extra}`;
  assert.deepEqual(parametersToRequest(line('Hires schedule type: SGM Uniform')).request.hires, { scale: 2, schedule: 'sgm_uniform' });
  const automatic = parametersToRequest(line('Hires sampler: DPM++ 2M SDE, Hires schedule type: Automatic')).request.hires;
  assert.deepEqual(automatic, { scale: 2, sampler: 'dpmpp_2m_sde', schedule: 'exponential' });
  const euler = parametersToRequest(line('Hires schedule type: Automatic')).request.hires;
  assert.deepEqual(euler, { scale: 2, schedule: 'normal' });
  const unknown = parametersToRequest(line('Hires schedule type: Turbo'));
  assert.deepEqual(unknown.request.hires, { scale: 2 });
  assert.match(unknown.notes.join('\n'), /hires schedule type "Turbo" is not available here/);
});
