// LoRA and embeddings on SDXL against diffusers (issue 20): the tiny SDXL model (tests/fixtures/sdxl) imported from
// its diffusers folder, a kohya SDXL LoRA (LDM module names, both text encoders: lora_te1_ / lora_te2_) and an SDXL
// embedding (clip_l / clip_g rows), made by tests/fixtures/lora/make_lora_sdxl_fixtures.py; images to 1/255 of
// StableDiffusionXLPipeline's. The embedding's pooled vector is taken at the end token, as A1111 takes it.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decode } from 'fast-png';
import { importModel } from '../src-core/import/importer.ts';
import { loadModel, type StableDiffusionModel } from '../src-core/model/model.ts';
import { generate } from '../src-core/pipeline/txt2img.ts';
import { attachAdapters } from '../src-core/adapters/apply.ts';

const FIXTURES = join(import.meta.dirname, 'fixtures');
const LORA = join(FIXTURES, 'lora');
const PROMPT = 'a red circle on a blue background';
const REQUEST = {
  negativePrompt: '',
  seed: 7,
  steps: 8,
  cfgScale: 5,
  sampler: 'euler',
  schedule: 'normal',
  noiseSource: 'torch-cpu',
  width: 64,
  height: 64,
};

let work: string;
let model: StableDiffusionModel;

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'lora-sdxl-'));
  const imported = await importModel(join(FIXTURES, 'sdxl', 'diffusers'), { out: join(work, 'sdxl') });
  model = await loadModel(imported.dir, { provider: 'cpu' });
  attachAdapters(model, {
    loraDirs: [join(LORA, 'loras-sdxl')],
    embeddingDirs: [join(LORA, 'embeddings-sdxl')],
    cacheRoot: join(work, 'cache'),
  });
});

after(async () => {
  await model?.dispose();
  rmSync(work, { recursive: true, force: true });
});

function maxDifference(png: Buffer, reference: string): number {
  const a = decode(png),
    b = decode(readFileSync(join(LORA, 'references', reference)));
  let max = 0;
  for (let p = 0; p < a.width * a.height; p++) {
    for (let c = 0; c < 3; c++) max = Math.max(max, Math.abs(Number(a.data[p * a.channels + c]) - Number(b.data[p * b.channels + c])));
  }
  return max;
}

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
