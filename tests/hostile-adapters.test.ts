// LoRA and embedding files that are damaged or made for another model, named in a prompt: each request is refused
// (a RequestError, the app's "this request cannot run" with its words) naming the file and what is wrong with it, or,
// where A1111 would go on (an embedding of another model's width: its name stays text), runs with a note that says so.
// Before: a LoRA holding NaN made every image NaN ("model output is not finite", naming no file), an empty LoRA file
// or an alpha of the wrong shape was an internal ImportError, and such embeddings were silently read as text.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generate } from '../src-core/pipeline/txt2img.ts';
import { openSafetensors } from '../src-core/import/safetensors.ts';
import { writeSafetensors, type TestTensor } from './helpers/safetensors-writer.ts';
import { importWithAdapters, type AdaptedModel } from './helpers/adapted-model.ts';

const FIXTURES = join(import.meta.dirname, 'fixtures');
const REQUEST = { negativePrompt: '', seed: 7, steps: 2, cfgScale: 7.5, sampler: 'euler', width: 64, height: 64 } as const;

let fixture: AdaptedModel;
let loras: string;
let embeddings: string;
/** The kohya fixture's tensors, to be damaged one at a time. */
let kohya: Record<string, TestTensor>;

before(async () => {
  fixture = await importWithAdapters(join(FIXTURES, 'import', 'sd1', 'diffusers'), (work) => ({
    loraDirs: [join(work, 'loras')],
    embeddingDirs: [join(work, 'embeddings')],
  }));
  loras = join(fixture.work, 'loras');
  embeddings = join(fixture.work, 'embeddings');
  mkdirSync(loras);
  mkdirSync(embeddings);
  const file = openSafetensors(join(FIXTURES, 'lora', 'loras', 'sd1-kohya.safetensors'));
  kohya = Object.fromEntries(file.names().map((name) => [name, { shape: [...file.info(name).shape], values: file.read(name) }]));
  file.close();
});

after(() => fixture?.close());

/** The request must be refused as a RequestError whose message matches `pattern`. */
async function refused(prompt: string, pattern: RegExp): Promise<void> {
  await assert.rejects(generate(fixture.model, { ...REQUEST, prompt }), (error: Error) => {
    assert.equal(error.name, 'RequestError', `${error.name}: ${error.message}`);
    assert.match(error.message, pattern);
    return true;
  });
}

test('a LoRA holding NaN or infinity is refused, naming the LoRA and the layer', async () => {
  const up = Object.keys(kohya).find((n) => n.startsWith('lora_unet_') && n.endsWith('.lora_up.weight'))!;
  const module = up.slice(0, -'.lora_up.weight'.length);
  for (const [name, value] of [
    ['with-nan', NaN],
    ['with-inf', -Infinity],
  ] as const) {
    const values = Float32Array.from(kohya[up]!.values as Float32Array);
    values[values.length - 1] = value;
    writeSafetensors(join(loras, `${name}.safetensors`), { ...kohya, [up]: { shape: kohya[up]!.shape, values } });
    await refused(
      `a red circle <lora:${name}:1>`,
      new RegExp(`^LoRA ${name}: ${module} holds values that are not finite numbers \\(NaN or infinity\\); the file is damaged$`),
    );
  }
  // The undamaged LoRA still applies.
  copyFileSync(join(FIXTURES, 'lora', 'loras', 'sd1-kohya.safetensors'), join(loras, 'good.safetensors'));
  const result = await generate(fixture.model, { ...REQUEST, prompt: 'a red circle <lora:good:1>' });
  assert.equal(result.images.length, 1);
});

test('an empty LoRA file, or one whose alpha is not one number, is refused naming the file', async () => {
  const empty = join(loras, 'empty.safetensors');
  writeFileSync(empty, '');
  await refused(
    'a red circle <lora:empty:1>',
    new RegExp(`^the LoRA file ${empty} cannot be read: empty\\.safetensors: truncated file: 0 bytes, too short for a safetensors header$`),
  );
  const alpha = Object.keys(kohya).find((n) => n.endsWith('.alpha'))!;
  const twoAlphas = join(loras, 'two-alphas.safetensors');
  writeSafetensors(twoAlphas, { ...kohya, [alpha]: { shape: [2], values: [1, 2] } });
  await refused(
    'a red circle <lora:two-alphas:1>',
    new RegExp(`^the LoRA file ${twoAlphas}: ${alpha.replace(/\./g, '\\.')} is not one finite number$`),
  );
});

test('an embedding made for another model, named in the prompt, is said to be read as text; an empty one is refused', async () => {
  // SDXL's pair of vectors (clip_l, clip_g) on this SD 1 model.
  const sdxl = join(embeddings, 'xlemb.safetensors');
  copyFileSync(join(FIXTURES, 'lora', 'embeddings-sdxl', 'xyzemb.safetensors'), sdxl);
  const width = fixture.model.textEncoders[0]!.hidden;
  const result = await generate(fixture.model, { ...REQUEST, prompt: 'a red circle on a xlemb background' });
  const note = result.notes.find((n) => n.includes('xlemb'));
  assert.equal(
    note?.replace(/clip_l \d+, clip_g \d+/, 'clip_l L, clip_g G'),
    `the embedding "xlemb" (${sdxl}) is for another model: its vectors are clip_l L, clip_g G wide, ` +
      `its text encoder takes ${width}; its name is read as text`,
    result.notes.join('\n'),
  );
  assert.doesNotMatch(result.images[0]!.parameters, /TI hashes/);
  // A prompt that does not name it has no such note.
  const other = await generate(fixture.model, { ...REQUEST, prompt: 'a red circle' });
  assert.equal(
    other.notes.some((n) => n.includes('xlemb')),
    false,
  );

  writeSafetensors(join(embeddings, 'emptyemb.safetensors'), { emb_params: { shape: [0] } });
  await refused(
    'a red circle on a emptyemb background',
    /^the embedding "emptyemb" named in the prompt cannot be read \(.*emptyemb\.safetensors\): emptyemb\.safetensors emb_params: an embedding is \[vectors, width\], this tensor is \[0\]$/,
  );
});

test('an SDXL LoRA on an SD 1 model: the note says which family it was made for, beside what did not apply', async () => {
  copyFileSync(join(FIXTURES, 'lora', 'loras-sdxl', 'sdxl-kohya.safetensors'), join(loras, 'sdxl-kohya.safetensors'));
  const result = await generate(fixture.model, { ...REQUEST, prompt: 'a red circle <lora:sdxl-kohya:1>' });
  const note = result.notes.find((n) => n.startsWith('LoRA sdxl-kohya:'));
  assert.match(
    note ?? result.notes.join('\n'),
    /layers applied; not applied: .* \(it was made for SDXL, and this model is SD 1 or SD 2\)$/,
  );
  // The model's own LoRA gets no such words.
  copyFileSync(join(FIXTURES, 'lora', 'loras', 'sd1-kohya.safetensors'), join(loras, 'sd1-kohya.safetensors'));
  const own = await generate(fixture.model, { ...REQUEST, prompt: 'a red circle <lora:sd1-kohya:1>' });
  assert.ok(!own.notes.some((n) => /it was made for/.test(n)), own.notes.join('\n'));
});
