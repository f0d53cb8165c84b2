// A1111's dyn= LoRA argument (<lora:x:1:dyn=8>, or the 4th positional one): only the first N ranks of each module's
// up and down are used, the scale staying multiplier x alpha / the file's rank (extensions-builtin/Lora:
// lyco_helpers.rebuild_conventional slices up[:, :dyn] and down[:dyn], network.calc_scale divides by the full rank).
// Other named arguments (an extension's lbw=, start=) are noted as ignored. The expected deltas are worked out by hand.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { StableDiffusionModel } from '../src-core/model/model.ts';
import { generate } from '../src-core/pipeline/txt2img.ts';
import { decodeInputImage } from '../src-core/image/decode.ts';
import { ignoredLoraArguments, loraCalls, parseExtraNetworks } from '../src-core/adapters/prompt-tags.ts';
import { readLoraFile } from '../src-core/adapters/lora-file.ts';
import { mergeLoras } from '../src-core/adapters/lora-merge.ts';
import { LayerTable } from '../src-core/adapters/layer-names.ts';
import { writeSafetensors } from './helpers/safetensors-writer.ts';
import { importWithAdapters, type AdaptedModel } from './helpers/adapted-model.ts';

const FIXTURES = join(import.meta.dirname, 'fixtures');
const REQUEST = { negativePrompt: '', seed: 7, steps: 2, cfgScale: 7.5, sampler: 'euler', width: 64, height: 64 } as const;

let fixture: AdaptedModel;
let model: StableDiffusionModel;

before(async () => {
  fixture = await importWithAdapters(join(FIXTURES, 'import', 'sd1', 'diffusers'), () => ({
    loraDirs: [join(FIXTURES, 'lora', 'loras')],
    embeddingDirs: [],
  }));
  model = fixture.model;
});

after(() => fixture?.close());

test('tags: dyn read as A1111 reads it (named or 4th positional, a whole number); other arguments noted', () => {
  const calls = (prompt: string) => loraCalls(parseExtraNetworks(prompt).tags).map((c) => [c.te, c.unet, c.dyn]);
  assert.deepEqual(calls('<lora:x:0.5:dyn=2> <lora:y:1:0.5:3> <lora:z:1:0.5:3:dyn= 1_0 > <lora:w>'), [
    [0.5, 0.5, 2],
    [1, 0.5, 3],
    [1, 0.5, 10],
    [1, 1, undefined],
  ]);
  assert.throws(() => calls('<lora:x:1:dyn=8.0>'), /dyn "8.0" is not a whole number/);
  const { tags } = parseExtraNetworks('<lora:x:1:dyn=8> <lora:y:1:lbw=1,0,0,1:start=3> <lora:z:1:1:4:9> <hypernet:h:lbw=1>');
  assert.deepEqual(ignoredLoraArguments(tags), [
    '<lora:y:1:lbw=1,0,0,1:start=3>: lbw= is not supported here; ignored',
    '<lora:y:1:lbw=1,0,0,1:start=3>: start= is not supported here; ignored',
    '<lora:z:1:1:4:9>: only name, te, unet and dyn are read; 9 ignored',
  ]);
});

/** a [rows, rank] @ b [rank, cols] as rows of numbers. */
function product(delta: { rows: number; cols: number; rank: number; a: Float32Array; b: Float32Array }): number[][] {
  return Array.from({ length: delta.rows }, (_, i) =>
    Array.from({ length: delta.cols }, (_, j) => {
      let sum = 0;
      for (let r = 0; r < delta.rank; r++) sum += delta.a[i * delta.rank + r] * delta.b[r * delta.cols + j];
      return sum;
    }),
  );
}

test('merge: dyn keeps the first ranks, the scale stays alpha / full rank (a 1x1 conv and a transposed Linear)', () => {
  // Rank 3, alpha 1.5, multiplier 2: scale 2 x 1.5 / 3 = 1.
  // up = [[1, 2, 3], [4, 5, 6]], down = [[1, 0, 2], [0, 1, 0], [1, 1, 1]].
  // Ranks 0-1: [[1, 2], [4, 5]] @ [[1, 0, 2], [0, 1, 0]] = [[1, 2, 2], [4, 5, 8]];
  // all three add [3, 6]^T [1, 1, 1]: [[4, 5, 5], [10, 11, 14]].
  const up = [1, 2, 3, 4, 5, 6],
    down = [1, 0, 2, 0, 1, 0, 1, 1, 1];
  const path = join(fixture.work, 'dyn.safetensors');
  writeSafetensors(path, {
    'lora_unet_mid_block_attentions_0_proj_in.lora_down.weight': { shape: [3, 3, 1, 1], values: down },
    'lora_unet_mid_block_attentions_0_proj_in.lora_up.weight': { shape: [2, 3, 1, 1], values: up },
    'lora_unet_mid_block_attentions_0_proj_in.alpha': { shape: [], values: [1.5] },
    'lora_unet_mid_block_attentions_0_proj_out.lora_down.weight': { shape: [3, 3], values: down },
    'lora_unet_mid_block_attentions_0_proj_out.lora_up.weight': { shape: [2, 3], values: up },
    'lora_unet_mid_block_attentions_0_proj_out.alpha': { shape: [], values: [1.5] },
  });
  const lora = readLoraFile(path);
  // A conv weight as torch stores it, [out 2, in 3, 1, 1]; a Linear's as the importer stores it, transposed [in 3, out 2].
  const dims = new Map([
    ['mid_block.attentions.0.proj_in.weight', [2, 3, 1, 1]],
    ['mid_block.attentions.0.proj_out.weight.T', [3, 2]],
  ]);
  const table = new LayerTable('unet', { dims, float: new Map() });
  const deltas = (dyn: number | undefined) => {
    const { deltas, reports } = mergeLoras([{ name: 'dyn', ...lora, te: 2, unet: 2, dyn }], { unet: table });
    assert.equal(reports[0].matched, 2);
    const byName = new Map((deltas.unet ?? []).map((d) => [d.initializer, d]));
    const conv = byName.get('mid_block.attentions.0.proj_in.weight');
    const linear = byName.get('mid_block.attentions.0.proj_out.weight.T');
    return { conv: conv && product(conv), linear: linear && product(linear), rank: conv?.rank };
  };
  const two = {
    conv: [
      [1, 2, 2],
      [4, 5, 8],
    ],
    linear: [
      [1, 4],
      [2, 5],
      [2, 8],
    ],
    rank: 2,
  };
  const all = {
    conv: [
      [4, 5, 5],
      [10, 11, 14],
    ],
    linear: [
      [4, 10],
      [5, 11],
      [5, 14],
    ],
    rank: 3,
  };
  assert.deepEqual(deltas(2), two);
  assert.deepEqual(deltas(-1), two, "Python's [:-1]");
  assert.deepEqual(deltas(undefined), all);
  assert.deepEqual(deltas(3), all);
  assert.deepEqual(deltas(64), all);
  assert.deepEqual(deltas(0), { conv: undefined, linear: undefined, rank: undefined }, 'an empty slice changes nothing');
  lora.file.close();
});

test('generate: dyn at the full rank is the plain LoRA, dyn=0 the model without it, dyn=2 between; lbw= noted', async () => {
  const image = async (prompt: string) => {
    const result = await generate(model, { ...REQUEST, prompt });
    return { pixels: (await decodeInputImage(result.images[0]!.png)).data, notes: result.notes };
  };
  const maxDiff = (x: Uint8Array, y: Uint8Array) => x.reduce((m, v, i) => Math.max(m, Math.abs(v - y[i])), 0);
  const plain = await image('a red circle <lora:sd1-kohya:1>');
  const full = await image('a red circle <lora:sd1-kohya:1:dyn=4>'); // the fixture's rank is 4
  const half = await image('a red circle <lora:sd1-kohya:1:dyn=2:lbw=1,0,1>');
  const none = await image('a red circle <lora:sd1-kohya:1:dyn=0>');
  const base = await image('a red circle');
  assert.deepEqual(full.pixels, plain.pixels);
  assert.ok(maxDiff(none.pixels, base.pixels) <= 1, 'dyn=0: the weights unchanged (the adapted session may round apart)');
  assert.ok(maxDiff(plain.pixels, base.pixels) > 10, 'the LoRA changes the image');
  assert.ok(maxDiff(half.pixels, plain.pixels) > 2 && maxDiff(half.pixels, base.pixels) > 2, 'two of four ranks: another image');
  assert.ok(half.notes.includes('<lora:sd1-kohya:1:dyn=2:lbw=1,0,1>: lbw= is not supported here; ignored'), half.notes.join('\n'));
  assert.ok(!plain.notes.some((n) => n.includes('not supported here')));
});
