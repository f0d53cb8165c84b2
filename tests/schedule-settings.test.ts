// A1111's schedule settings on a request (sigma min, sigma max, rho, always discard next-to-last sigma): the plan's
// sigmas span the range in both passes, the PNG carries A1111's keys and reads back, the command line takes them. The
// schedules themselves are checked against A1111's functions in src-core/schedule/a1111-schedules.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseGenerateRequest } from '../src-core/contract/generate.ts';
import { parseCli } from '../src-core/cli/generate.ts';
import { loadModel } from '../src-core/model/model.ts';
import { DEFAULT_MODEL_DIR } from '../src-core/model/default-model.ts';
import { planJob } from '../src-core/pipeline/passes.ts';
import { parametersToRequest } from '../src-core/pipeline/metadata.ts';
import { generate } from '../src-core/pipeline/txt2img.ts';

const base = { prompt: 'a red circle on a blue background', seed: 3, steps: 6, sampler: 'euler' as const };
const ranged = { ...base, scheduleSigmaMin: 0.3, scheduleSigmaMax: 6, scheduleRho: 4 };

test('the plan spans the range (first pass and hires fix), rho shapes Karras, and the discard drops the next-to-last sigma', async () => {
  const model = await loadModel(DEFAULT_MODEL_DIR, { provider: 'cpu' });
  try {
    const size = { width: 64, height: 64 };
    const plan = (input: object) => planJob(model, parseGenerateRequest(input), size);
    const first = plan(ranged).passes[0].plan.sigmas;
    // Karras runs from sigma_max to sigma_min (k-diffusion's get_sigmas_karras), then 0.
    assert.equal(first[0], 6);
    assert.ok(Math.abs(first[first.length - 2] - 0.3) < 1e-12);
    assert.notDeepEqual(plan({ ...ranged, scheduleRho: 7 }).passes[0].plan.sigmas, first, 'rho changes the Karras spacing');
    const hires = plan({ ...ranged, hires: { scale: 2, steps: 4, strength: 0.5, upscaler: 'latent' } }).passes[1].plan;
    assert.equal(hires.fullSchedule?.[0], 6, "hires fix's schedule spans the range too, as A1111's get_sigmas");
    const plain = plan(base).passes[0].plan.sigmas;
    const longer = plan({ ...base, steps: 7 }).passes[0].plan.sigmas;
    const discarded = plan({ ...base, discardPenultimateSigma: true }).passes[0].plan.sigmas;
    assert.equal(discarded.length, plain.length);
    assert.deepEqual(discarded, [...longer.slice(0, -2), 0], 'a 7-step schedule without its next-to-last sigma');
    assert.throws(() => plan({ ...base, scheduleSigmaMin: 50 }), /sigma_max .* must be greater than sigma_min/);
  } finally {
    await model.dispose();
  }
});

test("the PNG carries A1111's keys and reads back; the image changes; rho only where the schedule reads it", async () => {
  const model = await loadModel(DEFAULT_MODEL_DIR, { provider: 'cpu' });
  try {
    const plain = (await generate(model, base)).images[0]!;
    const made = (await generate(model, { ...ranged, discardPenultimateSigma: true })).images[0]!;
    assert.match(made.parameters, /Schedule min sigma: 0.3, Schedule max sigma: 6, Schedule rho: 4, Discard penultimate sigma: True/);
    assert.ok(!made.png.equals(plain.png));
    const back = parametersToRequest(made.parameters);
    assert.deepEqual(back.notes, []);
    assert.deepEqual(
      [back.request.scheduleSigmaMin, back.request.scheduleSigmaMax, back.request.scheduleRho, back.request.discardPenultimateSigma],
      [0.3, 6, 4, true],
    );
    const exponential = (await generate(model, { ...ranged, schedule: 'exponential', steps: 2 })).images[0]!;
    assert.doesNotMatch(exponential.parameters, /Schedule rho/);
    const dpm2 = (await generate(model, { ...base, sampler: 'dpm_2', steps: 2, discardPenultimateSigma: true })).images[0]!;
    assert.doesNotMatch(dpm2.parameters, /Discard penultimate sigma/, 'DPM2 discards by itself');
  } finally {
    await model.dispose();
  }
});

test('A1111 files: bad values and a max under the min get notes; Uniform with a range is named; the command line', () => {
  const line = (extra: string) => `a castle\nSteps: 20, Sampler: Euler, Schedule type: Karras, Seed: 5, Size: 64x64, ${extra}`;
  const bad = parametersToRequest(line('Schedule rho: lots, Schedule min sigma: 2, Schedule max sigma: 1'));
  assert.deepEqual(
    [bad.request.scheduleRho, bad.request.scheduleSigmaMin, bad.request.scheduleSigmaMax],
    [undefined, undefined, undefined],
  );
  assert.match(bad.notes.join('\n'), /Schedule rho "lots" in the file is not a number over 0/);
  assert.match(bad.notes.join('\n'), /schedule max sigma 1 is not above its min sigma 2; both ignored/);
  const uniform = parametersToRequest(line('Schedule min sigma: 0.1').replace('Karras', 'Uniform'));
  assert.match(uniform.notes.join('\n'), /A1111's Uniform schedule ignores the file's schedule sigma range/);
  const cli = parseCli([
    '--prompt',
    'x',
    '--schedule-sigma-min',
    '0.1',
    '--schedule-sigma-max',
    '9',
    '--schedule-rho',
    '5',
    '--discard-penultimate-sigma',
  ]);
  assert.ok(cli !== 'help');
  assert.deepEqual(
    [cli.request.scheduleSigmaMin, cli.request.scheduleSigmaMax, cli.request.scheduleRho, cli.request.discardPenultimateSigma],
    [0.1, 9, 5, true],
  );
  assert.throws(() => parseCli(['--prompt', 'x', '--schedule-rho', '0']), /--schedule-rho 0/);
  assert.throws(
    () => parseGenerateRequest({ ...base, scheduleSigmaMin: 2, scheduleSigmaMax: 1 }),
    /max sigma \(1\) must be above its min sigma \(2\)/,
  );
});
