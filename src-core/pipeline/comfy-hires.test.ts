// ComfyUI hires fix graphs fill the form's hires fix: the two real workflows of ComfyUI_examples' "2 Pass Txt2Img"
// page (tests/fixtures/png/README.md), then variations of ComfyUI's default graph with a second pass added, then
// hostile second passes that must end in notes. Expected sizes are worked out by hand from ComfyUI's nodes.py.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { comfyToRequest } from './comfy-parameters.ts';
import { describeIssues, GenerateRequestSchema } from '../contract/generate.ts';

type Graph = Record<string, { class_type: string; inputs: Record<string, unknown> }>;
const fixture = (name: string) => readFileSync(new URL(`../../tests/fixtures/png/foreign/${name}`, import.meta.url), 'utf8');
const read = (graph: unknown) => comfyToRequest(JSON.stringify(graph));

/** ComfyUI's default graph (512x512, seed 8566257, 20 steps, cfg 8, euler/normal) with a second KSampler, node 11. */
function twoPass(upscale: Graph[string], second: Record<string, unknown> = {}): Graph {
  const g = JSON.parse(fixture('comfy-basic-api-example.json')) as Graph;
  g['10'] = upscale;
  g['11'] = { class_type: 'KSampler', inputs: { ...g['3'].inputs, denoise: 0.5, latent_image: ['10', 0], ...second } };
  return g;
}
const latentBy = (scale_by: unknown, upscale_method = 'bilinear') => ({
  class_type: 'LatentUpscaleBy',
  inputs: { upscale_method, scale_by, samples: ['3', 0] },
});
const latentTo = (width: unknown, height: unknown, crop = 'disabled') => ({
  class_type: 'LatentUpscale',
  inputs: { upscale_method: 'bilinear', width, height, crop, samples: ['3', 0] },
});

test("ComfyUI_examples' hires fix workflows: latent and ESRGAN upscales fill the hires fix fields", () => {
  // LatentUpscale nearest-exact to 1152x1152 from 768x768: the factor 1.5; the second KSampler's own settings.
  assert.deepEqual(comfyToRequest(fixture('comfy-hiresfix-latent.json')), {
    request: {
      noiseSource: 'torch-cpu',
      seed: 89848141647836,
      steps: 12,
      cfgScale: 8,
      sampler: 'dpmpp_sde',
      schedule: 'normal',
      width: 768,
      height: 768,
      hires: {
        strength: 0.5,
        steps: 14,
        cfgScale: 8,
        scale: 1.5,
        upscaler: 'latent-nearest-exact',
        sampler: 'dpmpp_2m',
        schedule: 'simple',
      },
      prompt: 'masterpiece HDR victorian portrait painting of woman, blonde hair, mountain nature, blue sky\n',
      negativePrompt: 'bad hands, text, watermark\n',
    },
    notes: [
      "the second pass has its own seed (469771404043268); here hires fix draws its noise from the image's seed, as A1111 does, " +
        "so the second pass's noise will differ",
    ],
    model: 'v2-1_768-ema-pruned',
  });
  // Decoded, RealESRGAN x4, bilinear down to 1536x1536, encoded: twice the size, with Lanczos here; uni_pc_bh2 is not here.
  const esrgan = comfyToRequest(fixture('comfy-hiresfix-esrgan.json'));
  assert.deepEqual(esrgan.request.hires, { strength: 0.5, steps: 14, cfgScale: 8, scale: 2, upscaler: 'lanczos', schedule: 'normal' });
  assert.deepEqual(esrgan.notes, [
    'ComfyUI upscales the decoded image with the upscale model "RealESRGAN_x4plus.pth", then "bilinear", which this app does not ' +
      'have; its hires upscaler is set to Lanczos',
    'sampler "uni_pc_bh2" is not available here; the second pass uses the first pass\'s sampler',
    "ComfyUI spans the second pass's Brownian tree over the part of the schedule it runs; here, as in A1111, over the whole " +
      'schedule, so the image will differ from the original',
    "the second pass has its own seed (783745448521451); here hires fix draws its noise from the image's seed, as A1111 does, " +
      "so the second pass's noise will differ",
  ]);
});

test('ComfyUI hires fix: latent upscale methods map to the same torch interpolation here, others with a note', () => {
  const cases: Array<[string, string, string[]]> = [
    ['bilinear', 'latent', []],
    ['bicubic', 'latent-bicubic', []],
    ['nearest-exact', 'latent-nearest-exact', []],
    ['area', 'latent', ['ComfyUI upscales the latents with "area", which this app does not have; its hires upscaler is set to Latent']],
    [
      'bislerp',
      'latent',
      ['ComfyUI upscales the latents with "bislerp", which this app does not have; its hires upscaler is set to Latent'],
    ],
  ];
  for (const [method, upscaler, notes] of cases) {
    const result = read(twoPass(latentBy(2, method)));
    assert.deepEqual([result.request.hires?.upscaler, result.request.hires?.scale, result.notes], [upscaler, 2, notes], method);
  }
  // A latent upscale that is then decoded and encoded again before the second pass: the round trip is noted.
  const trip = twoPass({ class_type: 'VAEEncode', inputs: { pixels: ['12', 0], vae: ['4', 2] } });
  trip['12'] = { class_type: 'VAEDecode', inputs: { samples: ['13', 0], vae: ['4', 2] } };
  trip['13'] = latentBy(2, 'bicubic');
  const result = read(trip);
  assert.deepEqual(
    [result.request.hires?.upscaler, result.request.hires?.scale, result.notes],
    ['latent-bicubic', 2, ['the graph decodes and encodes the latents between the passes; here they stay latents']],
  );
});

test('ComfyUI hires fix: the second pass is sized as ComfyUI sizes it, as a factor or a resize', () => {
  const sized = (g: Graph, width = 512, height = 512) => {
    Object.assign(g['5'].inputs, { width, height });
    const { request, notes } = read(g);
    // What the form gets is a request the engine takes.
    const valid = GenerateRequestSchema.safeParse(request);
    assert.ok(valid.success, valid.error && describeIssues(valid.error));
    const { scale, resizeWidth, resizeHeight } = request.hires ?? {};
    return { scale, resizeWidth, resizeHeight, notes };
  };
  const fields = (f: { scale?: number; resizeWidth?: number; resizeHeight?: number }, notes: string[] = []) => ({
    scale: undefined,
    resizeWidth: undefined,
    resizeHeight: undefined,
    ...f,
    notes,
  });
  // 1368 / 8 = 171 cells; ComfyUI's round(171 * 1.5) = round(256.5) = 256 (Python rounds halves to even): 2048, as int(1368 * 1.5)
  // // 8 here.
  assert.deepEqual(sized(twoPass(latentBy(1.5)), 1368, 768), fields({ scale: 1.5 }));
  // round(64 * 1.56) = 100 cells = 800 pixels, where int(512 * 1.56) = 798 makes 792 here: the factor 800 / 512 instead.
  assert.deepEqual(sized(twoPass(latentBy(1.56))), fields({ scale: 1.5625 }));
  // LatentUpscale 1024 x 0 from 512x768: 1024 x round(96 * 1024 / 64) = 1536: twice the size.
  assert.deepEqual(sized(twoPass(latentTo(1024, 0)), 512, 768), fields({ scale: 2 }));
  // 1000 x 0 from 512x768: 1000 x 1500, latents 125 x 187 cells (1000x1496): A1111's resize to width 1000 does the same.
  assert.deepEqual(sized(twoPass(latentTo(1000, 0)), 512, 768), fields({ resizeWidth: 1000 }));
  // A factor over 4 (the form's most) as a resize: 256 * 6 = 1536.
  assert.deepEqual(sized(twoPass(latentBy(6)), 256, 256), fields({ resizeWidth: 1536 }));
  // Another aspect: ComfyUI stretches the latents; A1111's resize (this app's) covers the target and crops.
  assert.deepEqual(
    sized(twoPass(latentTo(1024, 768))),
    fields({ resizeWidth: 1024, resizeHeight: 768 }, [
      'ComfyUI stretches the image to 1024x768; here it is resized keeping its aspect and cropped, to 1024x768',
    ]),
  );
  assert.deepEqual(sized(twoPass(latentTo(1024, 768, 'center'))).notes, [
    'ComfyUI crops and stretches the image to 1024x768; here it is resized keeping its aspect and cropped, to 1024x768',
  ]);
});

test('ComfyUI hires fix: a pixel upscale through ImageScaleBy lanczos is the Lanczos upscaler; an unknown model factor is noted', () => {
  const g = twoPass({ class_type: 'VAEEncode', inputs: { pixels: ['12', 0], vae: ['4', 2] } });
  g['12'] = { class_type: 'ImageScaleBy', inputs: { upscale_method: 'lanczos', scale_by: 1.5, image: ['8', 0] } };
  const lanczos = read(g);
  assert.deepEqual([lanczos.request.hires?.upscaler, lanczos.request.hires?.scale], ['lanczos', 1.5]);
  assert.deepEqual(lanczos.notes, [
    "ComfyUI's Lanczos resize takes the decoded image truncated to 8 bits, where this app rounds it; a slight difference",
  ]);
  // An upscale model whose name says no factor, then "scale by 0.5": the size is unknown.
  g['12'].inputs.image = ['13', 0];
  g['13'] = { class_type: 'ImageUpscaleWithModel', inputs: { upscale_model: ['14', 0], image: ['8', 0] } };
  g['14'] = { class_type: 'UpscaleModelLoader', inputs: { model_name: 'UltraSharp.pth' } };
  g['12'].inputs.scale_by = 0.5;
  const unknown = read(g);
  assert.equal(unknown.request.hires, undefined);
  assert.deepEqual(unknown.notes, ["the second pass's size cannot be worked out from the graph; hires fix is left off"]);
  // "4x-UltraSharp" says its factor: 512 * 4 * 0.5 = 1024.
  g['14'].inputs.model_name = 'upscale_models/4x-UltraSharp.pth';
  const known = read(g);
  assert.deepEqual([known.request.hires?.upscaler, known.request.hires?.scale], ['lanczos', 2]);
  assert.match(known.notes[0], /with the upscale model "upscale_models\/4x-UltraSharp.pth", then "lanczos", which this app does not have/);
});

test("ComfyUI hires fix: the second KSampler's steps, denoise, cfg, sampler, schedule and own prompts", () => {
  const g = twoPass(latentBy(2), {
    steps: 10,
    denoise: 0.35,
    cfg: 5.5,
    sampler_name: 'dpmpp_2m_sde_gpu',
    scheduler: 'karras',
    positive: ['20', 0],
    negative: ['7', 0],
  });
  g['20'] = { class_type: 'CLIPTextEncode', inputs: { text: 'masterpiece, (detailed skin:1.1)', clip: ['4', 1] } };
  const { request, notes } = read(g);
  assert.equal(request.seed, 8566257);
  assert.deepEqual(request.hires, {
    strength: 0.35,
    steps: 10,
    cfgScale: 5.5,
    scale: 2,
    upscaler: 'latent',
    sampler: 'dpmpp_2m_sde',
    schedule: 'karras',
    prompt: 'masterpiece, (detailed skin:1.1)',
  });
  assert.deepEqual(notes, [
    'DPM++ 2M SDE in ComfyUI ("dpmpp_2m_sde_gpu") builds its Brownian tree on the GPU, drawing from the GPU\'s generator while its ' +
      "start noise comes from the CPU's; here both come from one noise source, so the image will differ from the original",
    "ComfyUI spans the second pass's Brownian tree over the part of the schedule it runs; here, as in A1111, over the whole " +
      'schedule, so the image will differ from the original',
    "ComfyUI applies (word:1.2) weights its own way (relative to an empty prompt); here they follow A1111's emphasis, so the image " +
      'will differ somewhat',
  ]);
  // Another encoder node with the first pass's text is no hires prompt; another model chain is noted.
  g['20'].inputs.text = 'masterpiece best quality girl';
  g['11'].inputs.model = ['21', 0];
  g['21'] = { class_type: 'CheckpointLoaderSimple', inputs: { ckpt_name: 'detailer.safetensors' } };
  const same = read(g);
  assert.equal(same.request.hires?.prompt, undefined);
  assert.match(same.notes.join('\n'), /the second pass samples with another model chain; here both passes use the first pass's model/);
});

test('ComfyUI hires fix: a third sampler, an img2img first pass and passes that are no hires fix keep the first-pass note', () => {
  const three = twoPass(latentBy(2));
  three['12'] = { class_type: 'KSampler', inputs: { ...three['11'].inputs, latent_image: ['11', 0] } };
  const r3 = read(three);
  assert.equal(r3.request.hires?.scale, 2);
  assert.deepEqual(r3.notes, [
    'this ComfyUI graph has 3 sampling nodes (a refiner, hires or second pass); the form takes the first pass (KSampler node 3) ' +
      'and its hires fix (KSampler node 11); the others are left out',
  ]);
  const i2i = twoPass(latentBy(2));
  i2i['3'].inputs.latent_image = ['30', 0];
  i2i['3'].inputs.denoise = 0.6;
  i2i['30'] = { class_type: 'VAEEncode', inputs: { pixels: ['31', 0], vae: ['4', 2] } };
  i2i['31'] = { class_type: 'LoadImage', inputs: { image: 'photo.png' } };
  const ri = read(i2i);
  assert.equal(ri.request.hires, undefined);
  assert.deepEqual(ri.notes, ['the first pass is not text to image, and hires fix is for text to image here; the second pass is left out']);
  // A second pass straight on the first's latents (no upscale) is a second pass, not a hires fix.
  const plain = twoPass(latentBy(2));
  plain['11'].inputs.latent_image = ['3', 0];
  assert.equal(read(plain).request.hires, undefined);
  assert.match(read(plain).notes[0], /has 2 sampling nodes .* first pass \(KSampler node 3\); the others are left out/);
});

test('hostile ComfyUI hires passes end in notes, never in an exception', () => {
  const cases: Array<[string, Graph, RegExp]> = [
    ['feeds on itself', twoPass({ ...latentBy(2), inputs: { ...latentBy(2).inputs, samples: ['11', 0] } }), /has 2 sampling nodes/],
    ['missing link', twoPass({ ...latentBy(2), inputs: { ...latentBy(2).inputs, samples: ['404', 0] } }), /has 2 sampling nodes/],
    ['huge factor', twoPass(latentBy(1e9)), /size 512000000000x512000000000 is beyond what hires fix makes here; hires fix is left off/],
    ['factor 0', twoPass(latentBy(0)), /scale_by 0 is not an upscale factor; keeping the current hires fix settings/],
    ['negative factor', twoPass(latentBy(-2)), /scale_by -2 is not an upscale factor/],
    ['text factor', twoPass(latentBy('2')), /scale_by is "2", not a number; keeping the current hires fix settings/],
    ['downscale', twoPass(latentBy(0.5)), /the second pass does not enlarge the image \(256x256\); hires fix is left off/],
    ['same size', twoPass(latentBy(1)), /does not enlarge the image \(512x512\)/],
    ['huge side', twoPass(latentTo(1e300, 512)), /width 1e\+300 is not a size/],
    ['fractional side', twoPass(latentTo(1000.5, 0)), /width 1000.5 is not a size/],
    ['negative side', twoPass(latentTo(-8, 0)), /width -8 is not a size/],
    ['denoise 0', twoPass(latentBy(2), { denoise: 0 }), /denoises nothing \(denoise 0\), so the image is the upscaled first pass/],
    ['missing model loader', twoPass({ class_type: 'ImageUpscaleWithModel', inputs: { image: ['3', 0] } }), /size cannot be worked out/],
  ];
  for (const [name, graph, note] of cases) {
    const result = read(graph);
    assert.equal(result.request.hires, undefined, name);
    assert.equal(result.request.seed, 8566257, name);
    assert.match(result.notes.join('\n'), note, name);
  }
  // Out-of-range second-pass numbers are left to the first pass's, with notes; the hires fix itself is read.
  const wild = read(twoPass(latentBy(2), { steps: 1e6, cfg: -3, denoise: 7, sampler_name: { a: 1 }, scheduler: 'x'.repeat(5000) }));
  assert.deepEqual(wild.request.hires, { strength: 1, scale: 2, upscaler: 'latent' });
  assert.deepEqual(wild.notes, [
    "the second pass's steps 1000000 are not 1 to 500; it takes the first pass's",
    "the second pass's cfg -3 is not 0 to 50; it takes the first pass's",
    'the KSampler node\'s sampler_name is {"a":1}, not text; keeping the current hires sampler',
    `ComfyUI's "${'x'.repeat(40)}" schedule has no counterpart here (normal, karras, exponential, sgm_uniform, simple); ` +
      "the second pass uses the first pass's schedule",
  ]);
  // Upscale nodes linked in a loop between the passes: followed a bounded number of times.
  const loop = twoPass(latentBy(2));
  loop['10'].inputs.samples = ['12', 0];
  loop['12'] = { ...latentBy(2), inputs: { ...latentBy(2).inputs, samples: ['10', 0] } };
  assert.equal(read(loop).request.hires, undefined);
});
