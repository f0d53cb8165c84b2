// InvokeAI PNGs fill the form: its 3.x metadata as a real image carried it, the 4+ shape, InvokeAI 2's sd-metadata
// and the older Dream line (tests/fixtures/png/README.md), then hostile metadata that must end in notes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { invokeToRequest } from './invoke-parameters.ts';
import { pngToRequest } from './png-import.ts';

const fixture = (name: string) => readFileSync(new URL(`../../tests/fixtures/png/${name}`, import.meta.url));
const SCHEDULER_NOTE =
  "InvokeAI samples with diffusers' schedulers (timesteps from the model's scheduler config); " +
  'the same settings here give a close, not identical, image';

test('InvokeAI 3 and 4+ PNGs: prompts, numbers, scheduler, CPU noise, clip skip, LoRAs and model', () => {
  const v3 = pngToRequest(fixture('invokeai-3.png'));
  assert.match(v3.request.prompt ?? '', /^\[Elegant Illustration drawn by Nobuteru Yuki::10\], .*, anime\n$/s);
  const { prompt: _, ...rest } = v3.request;
  assert.deepEqual(rest, {
    negativePrompt: '(worst quality)++, (low quality)+',
    steps: 24,
    cfgScale: 7.5,
    seed: 3186540132,
    width: 512,
    height: 768,
    sampler: 'dpmpp_2m',
    schedule: 'karras',
    noiseSource: 'torch-cpu',
    clipSkip: 1,
  });
  assert.deepEqual(v3.notes, [
    "the prompt uses InvokeAI's syntax (Compel: word+, (words)1.2), which this app reads as A1111's; the image will differ",
    SCHEDULER_NOTE,
    "the file's separate VAE (mpaffl) is not carried over",
  ]);
  assert.equal(v3.model, 'Journey');

  assert.deepEqual(pngToRequest(fixture('invokeai-5.png')), {
    request: {
      prompt: 'a lighthouse on a cliff, stormy sea, oil painting <lora:watercolor_xl:0.6>',
      negativePrompt: 'blurry, text',
      steps: 30,
      cfgScale: 6,
      seed: 1234567890,
      width: 832,
      height: 1216,
      sampler: 'euler',
      schedule: 'karras',
      noiseSource: 'torch-cpu',
    },
    notes: [
      'LoRAs are named as InvokeAI lists them; here a LoRA file of that name is used',
      SCHEDULER_NOTE,
      "clip skip is read for SD 1.x models; the file's (1 layers skipped, sdxl) is left out",
    ],
    model: 'Juggernaut XL v9',
  });
});

test('InvokeAI 2 sd-metadata and the Dream command line', () => {
  assert.deepEqual(pngToRequest(fixture('invokeai-2.png')), {
    request: {
      prompt: 'amazing landscape photo of mountains with lake in sunset by marc adamus, beautiful dramatic lighting',
      negativePrompt: '',
      sampler: 'euler_ancestral',
      steps: 50,
      cfgScale: 12,
      seed: 2502935700,
      width: 512,
      height: 768,
      noiseSource: 'torch-cuda',
    },
    notes: [
      'InvokeAI 2 did not record its noise schedule; keeping the current schedule',
      "InvokeAI 2 drew the noise on the GPU it ran on; here NVIDIA's (torch CUDA) noise is used",
    ],
    model: 'analog',
  });
  // A real Dream line (InvokeAI 2.2.0), with a [negative] part added as InvokeAI writes it.
  const dream = invokeToRequest({ Dream: '"Underwater city [blurry, dark]" -s 50 -S 916798825 -W 512 -H 512 -C 7.5 -A k_lms' });
  assert.deepEqual(dream, {
    request: {
      prompt: 'Underwater city',
      negativePrompt: 'blurry, dark',
      steps: 50,
      seed: 916798825,
      width: 512,
      height: 512,
      cfgScale: 7.5,
      sampler: 'lms',
    },
    notes: ['InvokeAI 2 did not record its noise schedule; keeping the current schedule'],
  });
  // InvokeAI 2's KSampler ran k-diffusion's DPM2 on the schedule as it is; this app drops a sigma, as A1111 does.
  const dpm2 = invokeToRequest({ Dream: '"a fox" -s 30 -S 1 -A k_dpm_2_a' })!;
  assert.equal(dpm2.request.sampler, 'dpm_2_ancestral');
  assert.deepEqual(dpm2.notes, [
    'InvokeAI 2 did not record its noise schedule; keeping the current schedule',
    'InvokeAI 2 runs DPM2 a on its schedule as it is; here, as in A1111, the schedule is built for one step more and its ' +
      'next-to-last sigma dropped, so the steps differ',
  ]);
  const legacy = { k_lms: 'lms', k_dpm_2: 'dpm_2', k_dpmpp_2_a: 'dpmpp_2s_ancestral', plms: undefined };
  for (const [name, sampler] of Object.entries(legacy))
    assert.equal(invokeToRequest({ Dream: `"a fox" -A ${name}` })!.request.sampler, sampler, name);
  assert.equal(invokeToRequest({ Software: 'x' }), undefined);
});

test("InvokeAI's diffusers schedulers map to the sampler and schedule of the same method, with notes on their noise", () => {
  const read = (scheduler: string) => invokeToRequest({ invokeai_metadata: JSON.stringify({ scheduler }) })!;
  const generator = (label: string) =>
    `InvokeAI draws ${label}'s noise at each step from a generator of its own; the image will differ after the first step`;
  const dropped = (label: string) =>
    `InvokeAI runs ${label} on its schedule as it is; here, as in A1111, the schedule is built for one step more and its ` +
    'next-to-last sigma dropped, so the steps differ';
  const tree =
    'DPM++ SDE in InvokeAI draws its noise from a Brownian tree (torchsde) seeded with 0, which is not reproduced here: ' +
    'the image will differ from the original';
  // InvokeAI name -> sampler, schedule and the notes after the scheduler note (schedulers.py SCHEDULER_MAP).
  const cases: Array<[string, string, string, string[]]> = [
    ['euler_a', 'euler_ancestral', 'normal', [generator('Euler a')]],
    ['lms', 'lms', 'normal', []],
    ['lms_k', 'lms', 'karras', []],
    ['kdpm_2', 'dpm_2', 'normal', [dropped('DPM2')]],
    ['kdpm_2_k', 'dpm_2', 'karras', [dropped('DPM2')]],
    ['kdpm_2_a', 'dpm_2_ancestral', 'normal', [generator('DPM2 a'), dropped('DPM2 a')]],
    ['kdpm_2_a_k', 'dpm_2_ancestral', 'karras', [generator('DPM2 a'), dropped('DPM2 a')]],
    ['dpmpp_sde', 'dpmpp_sde', 'normal', [tree]],
    ['dpmpp_sde_k', 'dpmpp_sde', 'karras', [tree]],
    ['dpmpp_2m_sde', 'dpmpp_2m_sde', 'normal', [generator('DPM++ 2M SDE')]],
    ['dpmpp_2m_sde_k', 'dpmpp_2m_sde', 'karras', [generator('DPM++ 2M SDE')]],
  ];
  for (const [name, sampler, schedule, notes] of cases)
    assert.deepEqual(read(name), { request: { sampler, schedule }, notes: [SCHEDULER_NOTE, ...notes] }, name);
  // Methods this app does not have: DPM++ 2S without noise (one evaluation a step), deterministic 3M, UniPC, DEIS...
  const unmapped = ['dpmpp_2s', 'dpmpp_2s_k', 'dpmpp_3m', 'dpmpp_3m_k', 'unipc', 'unipc_k', 'deis', 'pndm', 'ddpm', 'lcm', 'tcd', 'er_sde'];
  for (const name of unmapped) assert.deepEqual(read(name).request, {}, name);
});

test('hostile InvokeAI metadata ends in notes, never in an exception', () => {
  const cut = invokeToRequest({ invokeai_metadata: '{"seed": ' })!;
  assert.deepEqual(cut.request, {});
  // The parser's own words (they vary between Node versions) follow in parentheses.
  assert.match(
    cut.notes.join('\n'),
    /^this PNG comes from InvokeAI, but its parameters could not be read: its "invokeai_metadata" text is not valid JSON \(.+\)$/,
  );
  assert.match(invokeToRequest({ 'sd-metadata': '[1]' })!.notes[0], /its "sd-metadata" text is not a JSON object/);
  const bad = invokeToRequest({
    invokeai_metadata: JSON.stringify({
      positive_prompt: ['a'],
      seed: '12',
      steps: 'STEPS',
      width: 512,
      scheduler: 'dpmpp_3m_k',
      loras: [{ model: { name: 'x:y' }, weight: 1 }, { weight: 'heavy' }, 'nonsense'],
      rand_device: 'mps',
      model: { name: 'flux-dev', base: 'flux' },
      generation_mode: 'img2img',
      strength: 0.4,
    }).replace('"STEPS"', '1e400'), // JSON.parse reads it as Infinity
  })!;
  assert.deepEqual(bad.request, { width: 512, strength: 0.4 });
  assert.deepEqual(bad.notes, [
    'positive_prompt ["a"] in the file is not text; keeping the current value',
    'a LoRA in the file ({"model":{"name":"x:y"},"weight":1}) cannot be written as a prompt tag; it is left out',
    'a LoRA in the file ({"weight":"heavy"}) cannot be written as a prompt tag; it is left out',
    'a LoRA in the file ("nonsense") cannot be written as a prompt tag; it is left out',
    'steps Infinity in the file is not a number; keeping the current value',
    'seed "12" in the file is not a number; keeping the current value',
    'InvokeAI\'s scheduler "dpmpp_3m_k" is not available here; keeping the current sampler and schedule',
    'noise device "mps" is not available here',
    'the image was made with a flux model, which this app does not run; the values will not make the same image',
  ]);
});

test("InvokeAI 2.3's k_dpmpp_2_a gets a note: on a diffusers model it ran the model's default scheduler", () => {
  const fallback =
    "InvokeAI 2.3 ran k_dpmpp_2_a on diffusers models with the model's own default scheduler instead (it had no DPM++ 2S a " +
    'for them): if a diffusers model made this image, DPM++ 2S a here will not match it';
  const metadata = (version: string | undefined, sampler: string) =>
    invokeToRequest({ 'sd-metadata': JSON.stringify({ app_version: version, image: { prompt: 'a fox', sampler, seed: 1 } }) })!;
  for (const version of ['2.3.0', 'v2.3.5.post2', undefined]) {
    const read = metadata(version, 'k_dpmpp_2_a');
    assert.equal(read.request.sampler, 'dpmpp_2s_ancestral', String(version));
    assert.ok(read.notes.includes(fallback), String(version));
  }
  // 2.2 had no diffusers models; other samplers had a diffusers scheduler of their own.
  assert.ok(!metadata('2.2.5', 'k_dpmpp_2_a').notes.includes(fallback));
  assert.ok(!metadata('2.3.0', 'k_dpm_2_a').notes.includes(fallback));
  // A "Dream" line does not give the version.
  assert.ok(invokeToRequest({ Dream: '"a fox" -s 30 -S 1 -A k_dpmpp_2_a' })!.notes.includes(fallback));
});
