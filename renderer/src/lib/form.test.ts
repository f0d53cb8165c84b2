import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AppInfo } from '../../../src-core/contract/api.ts';
import { GenerateRequestSchema } from '../../../src-core/contract/generate.ts';
import {
  adaptToModel,
  applyRequest,
  defaultForm,
  formToRequest,
  planParams,
  scheduleApplies,
  sizeMultipleOf,
  vaeFactorOf,
} from './form.ts';
import { withImg2img, defaultHires, defaultImg2img } from './img2img.ts';

const info: AppInfo = {
  version: '0.1.0',
  mode: 'browser',
  provider: 'cpu',
  providerNotes: [],
  providerChoice: 'cpu',
  providers: [],
  modelError: null,
  model: { dir: '/m', name: 'tiny', width: 64, height: 48, prediction: 'epsilon', vaeFactor: 8, maxTokens: 75 },
  samplers: [],
  schedules: ['karras', 'normal'],
  noiseSources: ['default'],
};

test('defaults follow app.info', () => {
  const f = defaultForm(info);
  assert.equal(f.width, 64);
  assert.equal(f.height, 48);
  assert.equal(f.seed, -1);
  assert.equal(defaultForm(null).width, 512);
  assert.equal(vaeFactorOf(info), 8);
  assert.equal(vaeFactorOf(null), 8);
  assert.equal(scheduleApplies('ddim'), false);
  assert.equal(scheduleApplies('euler'), true);
});

test('the form becomes a valid request; -1 seeds are drawn', () => {
  const form = { ...defaultForm(info), prompt: 'a cat', steps: 12, count: 3, batchSize: 2 };
  const r = formToRequest(form, { random: () => 0.5 });
  assert.ok(r.value);
  assert.equal(r.value.seed, 2 ** 31);
  assert.equal(r.value.prompt, 'a cat');
  assert.equal(r.value.width, 64);
  assert.equal(r.value.restart, undefined);
  assert.ok(GenerateRequestSchema.safeParse(r.value).success);
  assert.equal(formToRequest({ ...form, seed: 42 }).value?.seed, 42);
  // batch size never exceeds the image count
  assert.equal(
    formToRequest({ ...form, count: 1, batchSize: 4 }).value?.batchSize,
    4,
    'batch count x batch size, as A1111: not cut to the count',
  );
});

test('restart settings are sent only for the restart sampler', () => {
  const form = { ...defaultForm(info), sampler: 'restart' as const, restartMode: 'sd' as const };
  assert.deepEqual(formToRequest(form).value?.restart, { preset: 'sd' });
  const custom = { ...form, restartMode: 'custom' as const, segments: [{ nr: '10', k: '2', tMin: '0.1', tMax: '2' }] };
  assert.deepEqual(planParams(custom).value, {
    sampler: 'restart',
    schedule: 'karras',
    steps: 20,
    cfgScale: 7,
    restart: { segments: [[10, 2, 0.1, 2]] },
  });
  const broken = { ...custom, segments: [{ nr: '10', k: '2', tMin: '3', tMax: '2' }] };
  assert.equal(planParams(broken).error, 'Restart segment 1: t_max must be greater than t_min');
  assert.equal(formToRequest(broken).error, 'Restart segment 1: t_max must be greater than t_min');
});

test('form problems are reported in plain words', () => {
  const f = defaultForm(info);
  assert.equal(formToRequest({ ...f, steps: null }).error, 'Steps is empty');
  assert.equal(formToRequest({ ...f, steps: 501 }).error, 'Steps must be at most 500');
  assert.equal(formToRequest({ ...f, cfgScale: 51 }).error, 'CFG scale must be between 0 and 50');
  assert.equal(formToRequest({ ...f, count: 0 }).error, 'Batch count must be at least 1');
  assert.equal(formToRequest({ ...f, batchSize: 17 }).error, 'Batch size must be at most 16');
  assert.equal(formToRequest({ ...f, width: 65 }, { vaeFactor: 8 }).error, 'Width must be a multiple of 8');
  assert.equal(formToRequest({ ...f, height: 4 }, { vaeFactor: 8 }).error, 'Height must be at least 8');
  assert.equal(formToRequest({ ...f, seed: -5 }).error, 'Seed must be -1 (random) or a number from 0 up');
  assert.equal(planParams({ ...f, steps: 2.5 }).error, 'Steps must be a whole number');
});

test("sides are checked against the model's size multiple (its UNet's downsamplings), the VAE factor where none is said", () => {
  const small = { ...info, model: { ...info.model!, vaeFactor: 4, sizeMultiple: 8 } };
  assert.equal(sizeMultipleOf(small), 8);
  assert.equal(sizeMultipleOf({ ...info, model: { ...info.model!, vaeFactor: 4 } }), 4, 'an older server: the VAE factor');
  assert.equal(sizeMultipleOf(null), 8);
  const f = { ...defaultForm(small), prompt: 'a circle', width: 64, height: 64 };
  const sizes = { vaeFactor: 4, sizeMultiple: 8 };
  assert.equal(formToRequest({ ...f, width: 68 }, sizes).error, 'Width must be a multiple of 8');
  assert.equal(formToRequest({ ...f, height: 68 }, sizes).error, 'Height must be a multiple of 8');
  assert.equal(formToRequest({ ...f, width: 68 }, { vaeFactor: 4 }).error, undefined);
  assert.equal(formToRequest({ ...f, width: 72 }, sizes).error, undefined);
  // Hires fix's target (int(side x scale) down to the VAE factor, as the engine makes it) is checked too.
  const hires = (scale: number) =>
    withImg2img(formToRequest(f, sizes), defaultImg2img(), { ...defaultHires(), enabled: true, scale }, sizes);
  assert.match(hires(1.1).error ?? '', /^Hires fix would make 68×68 images; this model takes sides in multiples of 8/);
  assert.equal(hires(1.125).error, undefined, '72×72');
});

test('imported parameters fill the form and keep what they do not mention', () => {
  const f = { ...defaultForm(info), prompt: 'old', count: 4 };
  const next = applyRequest(f, {
    prompt: 'a red circle',
    negativePrompt: 'blurry',
    sampler: 'restart',
    schedule: 'normal',
    steps: 30,
    cfgScale: 5.5,
    seed: 1234,
    width: 512,
    height: 768,
    noiseSource: 'torch-cpu',
    eta: 0.5,
    restart: { segments: [[5, 2, 1, 9]], restartGamma: 0.1 },
    timestepMode: 'nearest',
  });
  assert.equal(next.prompt, 'a red circle');
  assert.equal(next.negativePrompt, 'blurry');
  assert.equal(next.sampler, 'restart');
  assert.equal(next.schedule, 'normal');
  assert.equal(next.seed, 1234);
  assert.equal(next.count, 4);
  assert.equal(next.width, 512);
  assert.equal(next.noiseSource, 'torch-cpu');
  assert.equal(next.restartMode, 'custom');
  assert.deepEqual(next.segments, [{ nr: '5', k: '2', tMin: '1', tMax: '9' }]);
  assert.equal(f.prompt, 'old', 'the old form is not changed');
  const request = formToRequest(next).value;
  assert.deepEqual(request?.restart, { segments: [[5, 2, 1, 9]], restartGamma: 0.1 });
  assert.equal(request?.eta, 0.5);
  assert.equal(request?.timestepMode, 'nearest');
  // unknown values are ignored
  const same = applyRequest(f, { sampler: 'dpm_fast' as never, noiseSource: 'x' as never });
  assert.equal(same.sampler, f.sampler);
  assert.equal(same.noiseSource, f.noiseSource);
});

test('the size follows a new model only while it was the old default', () => {
  const other: AppInfo = { ...info, model: { ...info.model!, width: 512, height: 512 } };
  assert.equal(adaptToModel(defaultForm(info), info, other).width, 512);
  assert.equal(adaptToModel({ ...defaultForm(info), width: 128 }, info, other).width, 128);
});

test('emphasis mode: left out of the request at the default, carried otherwise and from imported parameters', () => {
  const form = defaultForm();
  assert.equal(form.emphasis, 'original');
  assert.equal('emphasis' in (formToRequest({ ...form, prompt: 'a', seed: 1 }).value ?? {}), false);
  assert.equal(formToRequest({ ...form, prompt: 'a', seed: 1, emphasis: 'no-norm' }).value?.emphasis, 'no-norm');
  assert.equal(applyRequest(form, { emphasis: 'ignore' }).emphasis, 'ignore');
  assert.equal(applyRequest({ ...form, emphasis: 'ignore' }, { prompt: 'x' }).emphasis, 'ignore');
});

test('clip skip: left out of the request at 1, carried otherwise; a PNG without it resets it to 1, as A1111 reads one', () => {
  const form = defaultForm();
  assert.equal(form.clipSkip, 1);
  assert.equal('clipSkip' in (formToRequest({ ...form, prompt: 'a', seed: 1 }).value ?? {}), false);
  assert.equal(formToRequest({ ...form, prompt: 'a', seed: 1, clipSkip: 2 }).value?.clipSkip, 2);
  assert.equal(applyRequest(form, { clipSkip: 2 }).clipSkip, 2);
  assert.equal(applyRequest({ ...form, clipSkip: 2 }, { prompt: 'x' }).clipSkip, 1);
});

test('the first model info fills the size once, never mixing a typed value with a placeholder', () => {
  const square: AppInfo = { ...info, model: { ...info.model!, width: 64, height: 64 } };
  // A width typed while the model loads is kept; the untouched placeholder height takes the model's.
  const typed = adaptToModel({ ...defaultForm(), width: 128 }, null, square);
  assert.deepEqual([typed.width, typed.height], [128, 64]);
  const untouched = adaptToModel(defaultForm(), null, square);
  assert.deepEqual([untouched.width, untouched.height], [64, 64]);
  // app.info without a model first (a model error), then a model: still the first fill.
  const noModel: AppInfo = { ...info, model: null };
  const later = adaptToModel(adaptToModel({ ...defaultForm(), height: 96 }, null, noModel), noModel, square);
  assert.deepEqual([later.width, later.height], [64, 96]);
});
