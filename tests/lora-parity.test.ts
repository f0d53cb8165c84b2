// LoRAs and textual-inversion embeddings against diffusers (issue 20). The importer's tiny SD 1 model is imported,
// given the fixture folders (tests/fixtures/lora, made by make_lora_fixtures.py), and generates with the prompt
// tags; images must match StableDiffusionPipeline's with load_lora_weights / load_textual_inversion to 1/255.
// The same LoRA in three layouts (kohya with diffusers names, kohya with LDM names, PEFT) gives the same images.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decode } from 'fast-png';
import { importModel } from '../src-core/import/importer.ts';
import { loadModel, type StableDiffusionModel } from '../src-core/model/model.ts';
import { generate } from '../src-core/pipeline/txt2img.ts';
import { attachAdapters, prepareAdapters } from '../src-core/adapters/apply.ts';
import { loadTensors, relativeDifference, tensor } from './helpers/references.ts';
import { importWithAdapters, type AdaptedModel } from './helpers/adapted-model.ts';
import { REFERENCE_PROMPT as PROMPT, REFERENCE_REQUEST as BASE_REQUEST } from './helpers/reference-request.ts';
import { runTextEncoder, newTimings } from '../src-core/pipeline/components.ts';
import { chunkPrompt } from '../src-core/prompt/chunks.ts';
import { embeddingsFor } from '../src-core/adapters/embedding-tokens.ts';
import { GridRequestSchema } from '../src-core/contract/experiments.ts';
import { runGrid } from '../src-core/experiments/grid.ts';

const FIXTURES = join(import.meta.dirname, 'fixtures');
const LORA = join(FIXTURES, 'lora');
const FOLDERS = { loraDirs: [join(LORA, 'loras')], embeddingDirs: [join(LORA, 'embeddings')] };

let fixture: AdaptedModel;
let work: string;
let model: StableDiffusionModel;

before(async () => {
  fixture = await importWithAdapters(join(FIXTURES, 'import', 'sd1', 'diffusers'), () => FOLDERS);
  ({ work, model } = fixture);
});

after(() => fixture?.close());

function pixelDifference(png: Buffer, reference: string): { max: number; mean: number } {
  const a = decode(png),
    b = decode(readFileSync(join(LORA, 'references', reference)));
  assert.deepEqual([a.width, a.height], [b.width, b.height]);
  const channels = a.channels,
    refChannels = b.channels;
  let max = 0,
    sum = 0;
  for (let p = 0; p < a.width * a.height; p++) {
    for (let c = 0; c < 3; c++) {
      const d = Math.abs(Number(a.data[p * channels + c]) - Number(b.data[p * refChannels + c]));
      max = Math.max(max, d);
      sum += d;
    }
  }
  return { max, mean: sum / (a.width * a.height * 3) };
}

async function image(prompt: string): Promise<{ png: Buffer; parameters: string; notes: string[] }> {
  const result = await generate(model, { ...BASE_REQUEST, prompt });
  return { png: result.images[0]!.png, parameters: result.images[0]!.parameters, notes: result.notes };
}

const CASES: Array<{ name: string; prompt: string; reference: string }> = [
  { name: 'kohya LoRA at 1.0', prompt: `${PROMPT} <lora:sd1-kohya:1>`, reference: 'sd1-lora-w1.0.png' },
  { name: 'kohya LoRA at 0.5', prompt: `${PROMPT} <lora:sd1-kohya:0.5>`, reference: 'sd1-lora-w0.5.png' },
  { name: 'text encoder 0.5, UNet 1.0', prompt: `${PROMPT} <lora:sd1-kohya:0.5:1.0>`, reference: 'sd1-lora-te0.5-unet1.0.png' },
  { name: 'named te= and unet=', prompt: `${PROMPT} <lora:sd1-kohya:te=0.5:unet=1>`, reference: 'sd1-lora-te0.5-unet1.0.png' },
  { name: 'the same LoRA with LDM names', prompt: `${PROMPT} <lora:sd1-kohya-ldm:1>`, reference: 'sd1-lora-w1.0.png' },
  { name: 'the same LoRA as PEFT', prompt: `${PROMPT} <lora:sd1-peft:1>`, reference: 'sd1-lora-w1.0.png' },
  { name: 'textual inversion', prompt: 'a red circle on a xyzemb background', reference: 'sd1-ti.png' },
];

for (const c of CASES) {
  test(`${c.name}: the image matches diffusers' to 1/255`, async () => {
    const { png, notes } = await image(c.prompt);
    const d = pixelDifference(png, c.reference);
    console.log(`${c.name}: max ${d.max}/255, mean ${d.mean.toFixed(3)}; notes: ${notes.join(' | ') || 'none'}`);
    assert.ok(d.max <= 1, `max difference ${d.max}/255`);
  });
}

test("a Compare grid with the LoRA weight as a Prompt S/R axis gives each weight's image", async () => {
  const grid = GridRequestSchema.parse({
    base: { ...BASE_REQUEST, prompt: `${PROMPT} <lora:sd1-kohya:1>` },
    x: { kind: 'promptSR', values: ['<lora:sd1-kohya:1>', '<lora:sd1-kohya:0.5>', '<lora:sd1-kohya:0.5:1.0>'] },
  });
  const cells = await runGrid(model, grid);
  const references = ['sd1-lora-w1.0.png', 'sd1-lora-w0.5.png', 'sd1-lora-te0.5-unet1.0.png'];
  for (const [i, cell] of cells.entries()) {
    const d = pixelDifference(cell.png, references[i]!);
    assert.ok(d.max <= 1, `cell ${cell.xLabel}: ${d.max}/255 from ${references[i]}`);
  }
});

test("the same embedding from A1111's .pt file gives the same image", async () => {
  fixture.attach({ ...FOLDERS, embeddingDirs: [join(LORA, 'embeddings-pt')] });
  try {
    const { png } = await image('a red circle on a xyzemb background');
    assert.ok(pixelDifference(png, 'sd1-ti.png').max <= 1);
  } finally {
    fixture.attach(FOLDERS);
  }
});

test('without the LoRA, or with the embedding read as text, the images are far from the references', async () => {
  const plain = await image(PROMPT);
  assert.ok(pixelDifference(plain.png, 'sd1-lora-w1.0.png').max > 20);
  assert.ok(pixelDifference(plain.png, 'sd1-lora-w0.5.png').max > 20);
  fixture.attach({ ...FOLDERS, embeddingDirs: [] });
  try {
    const asText = await image('a red circle on a xyzemb background');
    assert.ok(pixelDifference(asText.png, 'sd1-ti.png').max > 5, 'the embedding changes the image');
  } finally {
    fixture.attach(FOLDERS);
  }
});

test('the LoRA text encoder and one UNet call match diffusers to 1e-4 relative', async () => {
  const t = loadTensors(LORA, 'lora');
  const { model: adapted } = await prepareAdapters(model, { prompt: `${PROMPT} <lora:sd1-kohya:1>`, negativePrompt: '' });
  assert.notEqual(adapted.unet, model.unet);
  const ids = chunkPrompt(adapted.tokenizer, PROMPT).chunks[0]!.ids;
  const states = await runTextEncoder(adapted, ids, newTimings());
  const textError = relativeDifference(states, t.text_last_hidden_state_prompt!);
  const out = await adapted.unet.session.run({
    sample: tensor(t.unet_sample!),
    timestep: tensor(t.unet_timestep!),
    encoder_hidden_states: tensor(t.unet_encoder_hidden_states!),
  });
  const unetError = relativeDifference(out.out_sample!.data as Float32Array, t.unet_out_sample!);
  console.log(`text encoder ${textError.toExponential(2)}, UNet ${unetError.toExponential(2)} relative`);
  assert.ok(textError < 1e-4 && unetError < 1e-4);
});

test('the embedding takes two positions with ids past the vocabulary, where diffusers put its tokens', async () => {
  const { model: adapted } = await prepareAdapters(model, { prompt: 'a red circle on a xyzemb background', negativePrompt: '' });
  const ids = [
    ...chunkPrompt(adapted.tokenizer, 'a red circle on a xyzemb background', { embeddings: embeddingsFor(adapted) }).chunks[0]!.ids.slice(
      0,
      16,
    ),
  ];
  assert.deepEqual(ids, [1000, 320, 736, 66, 582, 66, 579, 525, 320, 1002, 1003, 65, 877, 709, 853, 1001]);
});

test('an fp16 import takes the LoRA and the embedding too (merged in float32, rounded once), within 1/255', async () => {
  const imported = await importModel(join(FIXTURES, 'import', 'sd1', 'diffusers'), { out: join(work, 'sd1-fp16'), precision: 'fp16' });
  const half = await loadModel(imported.dir, { provider: 'cpu' });
  try {
    attachAdapters(half, { ...FOLDERS, cacheRoot: join(work, 'cache') });
    for (const [prompt, reference] of [
      [`${PROMPT} <lora:sd1-kohya:1>`, 'sd1-lora-w1.0.png'],
      ['a red circle on a xyzemb background', 'sd1-ti.png'],
    ] as const) {
      const png = (await generate(half, { ...BASE_REQUEST, prompt })).images[0]!.png;
      assert.ok(pixelDifference(png, reference).max <= 1, reference);
    }
  } finally {
    await half.dispose();
  }
});
