// The bench's random LoRA (npm run bench -- --lora RANK) is one the engine takes whole: every module it writes is
// matched to the UNet (no note, no unsupported key), and the image changes with it. On the SDXL test model imported
// from its diffusers folder (the bench finds the layers by the importer's weight names).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { decode } from 'fast-png';
import { importModel } from '../import/importer.ts';
import { join } from 'node:path';
import { loadModel } from '../model/model.ts';
import { DEFAULT_MODEL_DIR } from '../model/default-model.ts';
import { generate } from '../pipeline/txt2img.ts';
import { attachRandomLora } from './bench-lora.ts';

const SDXL = join(import.meta.dirname, '..', '..', 'tests', 'fixtures', 'sdxl', 'diffusers');

test("the bench's random LoRA is applied whole to an SDXL UNet and changes the image", async () => {
  const work = mkdtempSync(join(tmpdir(), 'bench-lora-test-'));
  const { dir } = await importModel(SDXL, { out: join(work, 'sdxl') });
  const model = await loadModel(dir, { provider: 'cpu' });
  const lora = attachRandomLora(model, dir, 4);
  try {
    // the tiny SDXL's transformers (config: two down levels with attention at depths 1 and 2, two layers each; three
    // per up level; the middle at depth 2): 2 x 1 + 2 x 2 down, 3 x 2 + 3 x 1 up and 2 in the middle, 17 blocks of 10
    // layers (q, k, v, out of two attentions; the feed-forward's two), and the 11 transformers' proj_in and proj_out
    assert.equal(lora.layers, 17 * 10 + 11 * 2);
    const request = { prompt: 'a red circle', seed: 5, steps: 3, sampler: 'euler', cfgScale: 5, count: 1, width: 64, height: 64 };
    const plain = await generate(model, request);
    const adapted = await generate(model, { ...request, prompt: `${request.prompt} ${lora.tag}` });
    assert.deepEqual(adapted.notes, [], 'every module of the LoRA matched, with nothing to say');
    // pixels, not files: the PNG's parameters differ anyway, by the prompt's tag
    const pixels = (png: Buffer) => Buffer.from(decode(png).data as Uint8Array);
    assert.notDeepEqual(pixels(adapted.images[0]!.png), pixels(plain.images[0]!.png));
  } finally {
    await model.dispose();
    lora.remove();
    rmSync(work, { recursive: true, force: true });
  }
  assert.equal(existsSync(lora.folder), false, 'the LoRA file and its adapted graphs are removed');
});

test('the bench refuses a LoRA rank that is not a whole number from 1, and a UNet without attention layers', async () => {
  const model = await loadModel(DEFAULT_MODEL_DIR);
  try {
    assert.throws(() => attachRandomLora(model, DEFAULT_MODEL_DIR, 0), /--lora takes a rank, a whole number from 1 \(got 0\)/);
    assert.throws(() => attachRandomLora(model, DEFAULT_MODEL_DIR, 2.5), /a whole number from 1 \(got 2.5\)/);
    assert.throws(() => attachRandomLora(model, DEFAULT_MODEL_DIR, 4), /has no attention layers a LoRA could change/);
  } finally {
    await model.dispose();
  }
});
