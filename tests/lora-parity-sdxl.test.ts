// LoRA and embeddings on SDXL against diffusers (issue 20): the tiny SDXL model (tests/fixtures/sdxl) imported from
// its diffusers folder, a kohya SDXL LoRA (LDM module names, both text encoders: lora_te1_ / lora_te2_) and an SDXL
// embedding (clip_l / clip_g rows), made by tests/fixtures/lora/make_lora_sdxl_fixtures.py; images to 1/255 of
// StableDiffusionXLPipeline's. The embedding's pooled vector is taken at the end token, as A1111 takes it.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { StableDiffusionModel } from '../src-core/model/model.ts';
import { generate } from '../src-core/pipeline/txt2img.ts';
import { importWithAdapters, type AdaptedModel } from './helpers/adapted-model.ts';
import { maxPixelDifference } from './helpers/references.ts';
import { REFERENCE_PROMPT as PROMPT, REFERENCE_REQUEST } from './helpers/reference-request.ts';

const FIXTURES = join(import.meta.dirname, 'fixtures');
const LORA = join(FIXTURES, 'lora');
const REQUEST = { ...REFERENCE_REQUEST, cfgScale: 5 };

let fixture: AdaptedModel;
let model: StableDiffusionModel;

before(async () => {
  fixture = await importWithAdapters(join(FIXTURES, 'sdxl', 'diffusers'), () => ({
    loraDirs: [join(LORA, 'loras-sdxl')],
    embeddingDirs: [join(LORA, 'embeddings-sdxl')],
  }));
  model = fixture.model;
});

after(() => fixture?.close());

const maxDifference = (png: Buffer, reference: string) => maxPixelDifference(png, join(LORA, 'references', reference));

for (const [name, prompt, reference] of [
  ['kohya SDXL LoRA at 1.0', `${PROMPT} <lora:sdxl-kohya:1>`, 'sdxl-lora-w1.0.png'],
  ['kohya SDXL LoRA at 0.5', `${PROMPT} <lora:sdxl-kohya:0.5>`, 'sdxl-lora-w0.5.png'],
  ['SDXL embedding (both encoders)', 'a red circle on a xyzemb background', 'sdxl-ti.png'],
] as const) {
  test(`${name}: the image matches diffusers' to 1/255`, async () => {
    const result = await generate(model, { ...REQUEST, prompt });
    const max = maxDifference(result.images[0]!.png, reference);
    console.log(`${name}: max ${max}/255; notes: ${result.notes.join(' | ') || 'none'}`);
    assert.deepEqual(
      result.notes.filter((n) => n.startsWith('LoRA')),
      [],
      'every module applied',
    );
    assert.ok(max <= 1, `${max}/255`);
  });
}

test('without the LoRA the image is far from the reference', async () => {
  const result = await generate(model, { ...REQUEST, prompt: PROMPT });
  assert.ok(maxDifference(result.images[0]!.png, 'sdxl-lora-w1.0.png') > 20);
});
