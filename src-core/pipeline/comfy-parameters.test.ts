// ComfyUI PNGs fill the form: real graphs from ComfyUI's repository (tests/fixtures/png/foreign, README there), then
// variations of its default graph for each node the reader follows, then hostile graphs that must end in notes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { comfyToRequest } from './comfy-parameters.ts';
import { pngToRequest } from './png-import.ts';
import { SAMPLERS } from '../samplers/index.ts';
import { samplerSchedule } from '../samplers/run.ts';
import { DiscreteSchedule } from '../schedule/discrete.ts';
import { buildSchedule } from '../schedule/schedules.ts';

const fixture = (name: string) => readFileSync(new URL(`../../tests/fixtures/png/${name}`, import.meta.url));
type Graph = Record<string, { class_type: string; inputs: Record<string, unknown> }>;
const defaultGraph = (): Graph => JSON.parse(fixture('foreign/comfy-basic-api-example.json').toString('utf8')) as Graph;
const read = (graph: unknown) => comfyToRequest(JSON.stringify(graph));
/** The default graph with its KSampler's sampler_name and scheduler set. */
const readNames = (sampler_name: string, scheduler = 'normal') => {
  const g = defaultGraph();
  Object.assign(g['3'].inputs, { sampler_name, scheduler });
  return read(g);
};

test('ComfyUI PNGs: the default graph, a LoRA graph and an SDXL base + refiner graph fill the form', () => {
  assert.deepEqual(pngToRequest(fixture('comfy-default.png')), {
    request: {
      noiseSource: 'torch-cpu',
      seed: 8566257,
      steps: 20,
      cfgScale: 8,
      sampler: 'euler',
      schedule: 'normal',
      width: 512,
      height: 512,
      prompt: 'masterpiece best quality girl',
      negativePrompt: 'bad hands',
    },
    notes: [],
    model: 'v1-5-pruned-emaonly',
  });
  const lora = pngToRequest(fixture('comfy-lora.png'));
  assert.equal(lora.request.prompt, 'masterpiece best quality girl <lora:epi_noiseoffset2:1>');
  assert.equal(lora.request.seed, 851616030078638);
  assert.equal(lora.request.steps, 1);
  assert.deepEqual(lora.notes, []);
  assert.deepEqual(pngToRequest(fixture('comfy-sdxl-refiner.png')), {
    request: {
      noiseSource: 'torch-cpu',
      seed: 42,
      steps: 20,
      cfgScale: 7.5,
      sampler: 'euler',
      schedule: 'normal',
      width: 1024,
      height: 1024,
      prompt: 'a photo of a cat',
      negativePrompt: '',
    },
    notes: [
      'this ComfyUI graph has 2 sampling nodes (a refiner, hires or second pass); the form takes the first pass ' +
        '(KSamplerAdvanced node 10); the others are left out',
      'the negative conditioning is zeroed (ConditioningZeroOut), not an encoded prompt; here it is an empty prompt',
    ],
    model: 'sd_xl_base_1.0',
  });
});

test('ComfyUI: simple primitive nodes are followed, others are named; clip skip, LoRA weights and batches are read', () => {
  const g = defaultGraph();
  g['6'].inputs.text = ['11', 0];
  g['11'] = { class_type: 'PrimitiveStringMultiline', inputs: { value: 'a castle, (dusk:1.2)' } };
  g['3'].inputs.seed = ['12', 0];
  g['12'] = { class_type: 'PrimitiveInt', inputs: { value: 77, control_after_generate: 'fixed' } };
  g['7'].inputs.text = ['13', 0];
  g['13'] = { class_type: 'StringConcatenate', inputs: { string_a: 'bad', string_b: 'hands', delimiter: ' ' } };
  // checkpoint -> LoraLoader (0.8 UNet, 0.5 CLIP) -> LoraLoaderModelOnly -> sampler; CLIP: lora -> CLIPSetLastLayer -> text
  g['20'] = {
    class_type: 'LoraLoader',
    inputs: { lora_name: 'styles\\ink.safetensors', strength_model: 0.8, strength_clip: 0.5, model: ['4', 0], clip: ['4', 1] },
  };
  g['21'] = { class_type: 'LoraLoaderModelOnly', inputs: { lora_name: 'detail.pt', strength_model: 1.25, model: ['20', 0] } };
  g['22'] = { class_type: 'CLIPSetLastLayer', inputs: { stop_at_clip_layer: -2, clip: ['20', 1] } };
  g['3'].inputs.model = ['21', 0];
  g['6'].inputs.clip = ['22', 0];
  g['5'].inputs.batch_size = 3;
  const result = read(g);
  assert.equal(result.request.prompt, 'a castle, (dusk:1.2) <lora:ink:0.5:0.8> <lora:detail:0:1.25>');
  assert.equal(result.request.negativePrompt, undefined);
  assert.equal(result.request.seed, 77);
  assert.equal(result.request.clipSkip, 2);
  assert.equal(result.request.batchSize, 3);
  assert.deepEqual(result.notes, [
    'ComfyUI draws the noise of all 3 images in a batch from one generator; the first image matches, the others here ' +
      'use seed + 1, seed + 2... and will differ',
    "the CLIPTextEncode node's text comes from a StringConcatenate node (13), which this app cannot evaluate; " +
      'keeping the current negative prompt',
    'ComfyUI applies (word:1.2) weights its own way (relative to an empty prompt); ' +
      "here they follow A1111's emphasis, so the image will differ somewhat",
  ]);
});

test("ComfyUI: sampler and schedule names map only where they compute the same; others keep the form's value", () => {
  const both = readNames('dpmpp_2m', 'karras');
  assert.deepEqual([both.request.sampler, both.request.schedule, both.notes], ['dpmpp_2m', 'karras', []]);
  const other = readNames('uni_pc_bh2', 'beta');
  assert.equal(other.request.sampler, undefined);
  assert.equal(other.request.schedule, undefined);
  assert.deepEqual(other.notes, [
    'sampler "uni_pc_bh2" is not available here; keeping the current sampler',
    'ComfyUI\'s "beta" schedule has no counterpart here (normal, karras, exponential, sgm_uniform, simple); keeping the current schedule',
  ]);
  const ddim = readNames('ddim', 'normal');
  assert.equal(ddim.request.sampler, 'euler');
  assert.deepEqual(ddim.notes, ['ComfyUI\'s "ddim" sampler is Euler on the chosen schedule; it is Euler here']);
});

test("ComfyUI's k-diffusion samplers and schedules: each maps with a note for its noise or its schedule", () => {
  const generator = (label: string) =>
    `ComfyUI draws ${label}'s noise at each step from its own generator; the image will differ after the first step`;
  // The CPU-built tree is the engine's; the GPU-built one draws from another generator.
  const onGpu = (label: string, name: string) =>
    `${label} in ComfyUI ("${name}") builds its Brownian tree on the GPU, drawing from the GPU's generator while its ` +
    "start noise comes from the CPU's; here both come from one noise source, so the image will differ from the original";
  const wholeSchedule =
    'ComfyUI runs DPM++ 3M SDE on its schedule as it is; here, as in A1111, the schedule is built for one step more and its ' +
    'next-to-last sigma dropped, so the steps differ';
  // ComfyUI name -> this app's sampler and the notes (comfy/samplers.py KSAMPLER_NAMES, comfy/k_diffusion/sampling.py).
  const cases: Array<[string, string, string[]]> = [
    ['euler_ancestral', 'euler_ancestral', [generator('Euler a')]],
    ['lms', 'lms', []],
    ['dpm_2', 'dpm_2', []],
    ['dpm_2_ancestral', 'dpm_2_ancestral', [generator('DPM2 a')]],
    ['dpmpp_2s_ancestral', 'dpmpp_2s_ancestral', [generator('DPM++ 2S a')]],
    ['dpmpp_sde', 'dpmpp_sde', []],
    ['dpmpp_sde_gpu', 'dpmpp_sde', [onGpu('DPM++ SDE', 'dpmpp_sde_gpu')]],
    ['dpmpp_2m_sde', 'dpmpp_2m_sde', []],
    ['dpmpp_2m_sde_gpu', 'dpmpp_2m_sde', [onGpu('DPM++ 2M SDE', 'dpmpp_2m_sde_gpu')]],
    ['dpmpp_3m_sde', 'dpmpp_3m_sde', [wholeSchedule]],
    ['dpmpp_3m_sde_gpu', 'dpmpp_3m_sde', [onGpu('DPM++ 3M SDE', 'dpmpp_3m_sde_gpu'), wholeSchedule]],
  ];
  for (const [name, sampler, notes] of cases) {
    const result = readNames(name);
    assert.deepEqual([result.request.sampler, result.notes], [sampler, notes], name);
  }
  for (const name of ['dpm_fast', 'dpm_adaptive', 'heunpp2', 'euler_cfg_pp', 'ipndm', 'deis', 'uni_pc'])
    assert.equal(readNames(name).request.sampler, undefined, name);

  for (const schedule of ['exponential', 'sgm_uniform', 'simple']) {
    const result = readNames('euler', schedule);
    assert.deepEqual([result.request.schedule, result.notes], [schedule, []], schedule);
  }
  for (const schedule of ['ddim_uniform', 'beta', 'linear_quadratic', 'kl_optimal', 'polyexponential']) {
    const result = readNames('euler', schedule);
    assert.equal(result.request.schedule, undefined, schedule);
    assert.match(result.notes.join('\n'), new RegExp(`"${schedule}" schedule has no counterpart here`));
  }
});

test("ComfyUI: the dropped-sigma note follows this app's plan (ComfyUI drops the next-to-last sigma for DPM2 and DPM2 a only)", () => {
  const comfyDrops = new Set(['dpm_2', 'dpm_2_ancestral', 'uni_pc', 'uni_pc_bh2']); // KSampler.DISCARD_PENULTIMATE_SIGMA_SAMPLERS
  const model = new DiscreteSchedule({ num_train_timesteps: 1000, beta_start: 0.00085, beta_end: 0.012, beta_schedule: 'scaled_linear' });
  const plain = buildSchedule('karras', model, 10);
  for (const name of ['lms', 'dpm_2', 'dpm_2_ancestral', 'dpmpp_2s_ancestral', 'dpmpp_sde', 'dpmpp_2m_sde', 'dpmpp_3m_sde']) {
    const result = readNames(name, 'karras');
    const planned = samplerSchedule(SAMPLERS[result.request.sampler!], 'karras', model, 10);
    assert.equal(planned.length, plain.length, name);
    const appDrops = planned.some((sigma, i) => sigma !== plain[i]);
    const noted = result.notes.some((n) => n.includes('next-to-last sigma dropped'));
    assert.equal(noted, appDrops !== comfyDrops.has(name), name);
  }
});

test('ComfyUI: SDXL text encoder, img2img from an encoded image and a hires second pass', () => {
  const sdxl = defaultGraph();
  sdxl['6'] = {
    class_type: 'CLIPTextEncodeSDXL',
    inputs: {
      width: 4096,
      height: 4096,
      crop_w: 0,
      crop_h: 32,
      target_width: 512,
      target_height: 512,
      text_g: 'a fox',
      text_l: 'a fox, watercolor',
      clip: ['4', 1],
    },
  };
  const x = read(sdxl);
  assert.deepEqual(
    [x.request.prompt, x.request.originalWidth, x.request.originalHeight, x.request.cropTop, x.request.cropLeft],
    ['a fox', 4096, 4096, 32, 0],
  );
  assert.deepEqual(x.notes, ['the positive prompt has a different text_l (CLIP-L) and text_g; here text_g is used for both encoders']);

  const i2i = defaultGraph();
  i2i['3'].inputs.denoise = 0.6;
  i2i['3'].inputs.latent_image = ['30', 0];
  i2i['30'] = { class_type: 'VAEEncode', inputs: { pixels: ['31', 0], vae: ['4', 2] } };
  i2i['31'] = { class_type: 'LoadImage', inputs: { image: 'photo.png' } };
  const r = read(i2i);
  assert.deepEqual([r.request.strength, r.request.exactSteps, r.request.width], [0.6, true, undefined]);
  // An SDE sampler's tree spans the part run in ComfyUI (KSampler.set_steps cuts the sigmas before sampling).
  assert.ok(!r.notes.some((n) => n.includes('Brownian')));
  i2i['3'].inputs.sampler_name = 'dpmpp_2m_sde';
  assert.match(read(i2i).notes.join('\n'), /ComfyUI spans an SDE sampler's Brownian tree over the part of the schedule it runs/);

  // The second pass has the lower id: the first pass is found by the graph's structure, not by its id.
  const hires = defaultGraph();
  hires['1'] = { class_type: 'KSampler', inputs: { ...hires['3'].inputs, seed: 9, denoise: 0.5, latent_image: ['2', 0] } };
  hires['2'] = { class_type: 'LatentUpscaleBy', inputs: { upscale_method: 'nearest-exact', scale_by: 1.5, samples: ['3', 0] } };
  const h = read(hires);
  assert.equal(h.request.seed, 8566257);
  // ...and the second is its hires fix (comfy-hires.test.ts), its own seed noted.
  assert.deepEqual(h.request.hires, {
    strength: 0.5,
    steps: 20,
    cfgScale: 8,
    scale: 1.5,
    upscaler: 'latent-nearest-exact',
    sampler: 'euler',
    schedule: 'normal',
  });
  assert.match(h.notes.join('\n'), /the second pass has its own seed \(9\)/);
});

test('hostile ComfyUI graphs end in notes, never in an exception', () => {
  const cases: Array<[string, RegExp]> = [
    ['{"3": ', /could not be read: its ComfyUI graph is not valid JSON/],
    ['[1, 2]', /could not be read: its ComfyUI graph is not a set of nodes/],
    ['{"3": {"inputs": {}}, "4": 5}', /could not be read: its ComfyUI graph has no nodes/],
    ['{"3": {"class_type": "SamplerCustomAdvanced", "inputs": {}}}', /samples with a SamplerCustomAdvanced node.*cannot fill the form/],
    ['{"9": {"class_type": "SaveImage", "inputs": {}}}', /has no KSampler node; it cannot fill the form/],
    [`${'['.repeat(100_000)}${']'.repeat(100_000)}`, /is not a set of nodes/],
  ];
  for (const [text, note] of cases) {
    const result = comfyToRequest(text);
    assert.deepEqual(result.request, {}, text.slice(0, 40));
    assert.match(result.notes.join('\n'), note);
  }

  const g = defaultGraph();
  g['6'].inputs.text = ['11', 0];
  g['11'] = { class_type: 'PrimitiveString', inputs: { value: ['11', 0] } }; // a loop
  g['7'].inputs.text = ['404', 0]; // a node the graph lacks
  g['3'].inputs.seed = 'SEED'; // replaced below by ComfyUI's largest seed, 2^64 - 1 (past 2^53)
  g['3'].inputs.steps = '20';
  g['3'].inputs.cfg = { $gt: 1 };
  g['5'].inputs.width = 1e300;
  g['3'].inputs.model = ['3', 0]; // the sampler's own output
  const result = comfyToRequest(JSON.stringify(g).replace('"SEED"', '18446744073709551615'));
  assert.deepEqual(Object.keys(result.request).sort(), ['height', 'noiseSource', 'sampler', 'schedule', 'width']);
  assert.deepEqual(result.notes, [
    'the seed 18446744073709552000 is outside what this app takes (0 to 2^53 - 1); keeping the current seed',
    'the KSampler node\'s steps is "20", not a number; keeping the current steps',
    'the KSampler node\'s cfg is {"$gt":1}, not a number; keeping the current CFG scale',
    "the CLIPTextEncode node's text comes through links in a loop (or a chain too long to follow); keeping the current positive prompt",
    "the CLIPTextEncode node's text links to node 404, which the graph does not have; keeping the current negative prompt",
    'the model comes through links in a loop (or a chain too long to follow); the rest of it is not read',
    'the model passes through a KSampler node (3), which is left out',
  ]);

  // A chain of 10,000 conditioning nodes is cut off after a bounded number of links.
  const deep = defaultGraph();
  for (let i = 0; i < 10_000; i++)
    deep[`c${i}`] = { class_type: 'ConditioningSetTimestepRange', inputs: { conditioning: [`c${i + 1}`, 0] } };
  deep['c10000'] = deep['6'];
  deep['3'].inputs.positive = ['c0', 0];
  const cut = read(deep);
  assert.equal(cut.request.prompt, undefined);
  assert.deepEqual(cut.notes.slice(-2), [
    'the positive conditioning could not be followed to a prompt; keeping the current positive prompt',
    'the positive conditioning passes through 65 nodes (ConditioningSetTimestepRange), left out here',
  ]);
  assert.equal(cut.notes.length, 2);
});
