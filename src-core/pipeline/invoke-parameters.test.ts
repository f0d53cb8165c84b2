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
    },
    notes: ['sampler "k_lms" is not available here; keeping the current sampler'],
  });
  assert.equal(invokeToRequest({ Software: 'x' }), undefined);
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
      scheduler: 'dpmpp_sde_k',
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
    'InvokeAI\'s scheduler "dpmpp_sde_k" is not available here; keeping the current sampler and schedule',
    'noise device "mps" is not available here',
    'the image was made with a flux model, which this app does not run; the values will not make the same image',
  ]);
});
