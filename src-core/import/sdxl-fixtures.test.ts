// The SGM key map against diffusers itself: the fixture's single-file SDXL checkpoints were made from its
// diffusers folder with diffusers' convert_diffusers_to_original_sdxl.py functions, so every mapped tensor must
// equal the folder's tensor of the same name (fp32 exactly, fp16 to fp16 rounding), with none left over, and the
// configs inferred from the shapes must agree with the folder's (head counts aside: the tiny model's are not 64 wide).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fromHalfBits, toHalfBits } from '../model/half.ts';
import { openDiffusersFolder } from './diffusers-folder.ts';
import { openImportSource } from './source.ts';
import type { WeightSource } from './weights.ts';

const FIXTURES = fileURLToPath(new URL('../../tests/fixtures/sdxl/', import.meta.url));
const skip = existsSync(join(FIXTURES, 'sdxl-sgm-fp32.safetensors')) ? false : 'tests/fixtures/sdxl is absent';

const halfRounded = (values: Float32Array) => fromHalfBits(toHalfBits(values));

function sameWeights(
  mappedOrNot: WeightSource | undefined,
  referenceOrNot: WeightSource | undefined,
  component: string,
  fp16: boolean,
): void {
  assert.ok(mappedOrNot && referenceOrNot, `${component}: present in both`);
  const mapped: WeightSource = mappedOrNot,
    reference: WeightSource = referenceOrNot;
  assert.deepEqual([...mapped.names()].sort(), [...reference.names()].sort(), `${component}: the same tensor names`);
  for (const name of reference.names()) {
    const a = mapped.get(name),
      b = reference.get(name);
    assert.deepEqual(a.shape, b.shape, `${component} ${name}: shape`);
    const expected = fp16 ? halfRounded(b.read()) : b.read();
    assert.deepEqual(a.read(), expected, `${component} ${name}: values`);
  }
}

function sameKeys(
  actual: Record<string, unknown> | undefined,
  expected: Record<string, unknown> | undefined,
  keys: string[],
  what: string,
): void {
  for (const key of keys) assert.deepEqual(actual?.[key], expected?.[key], `${what} ${key}`);
}

for (const [file, fp16] of [
  ['sdxl-sgm-fp32.safetensors', false],
  ['sdxl-sgm-fp16.safetensors', true],
] as const) {
  test(`${file}: every tensor maps to the diffusers folder's tensor of the same name`, { skip }, async () => {
    const folder = openDiffusersFolder(join(FIXTURES, 'diffusers'));
    const source = await openImportSource(join(FIXTURES, file));
    try {
      assert.equal(source.family, 'sdxl');
      assert.equal(folder.family, 'sdxl');
      assert.equal(source.prediction, 'epsilon');
      for (const component of ['unet', 'vae', 'textEncoder', 'textEncoder2'] as const) {
        sameWeights(source.weights[component], folder.weights[component], component, fp16);
      }
      // Left over: position_ids (a buffer the graph computes), OpenCLIP's logit_scale, SGM's denoiser sigmas.
      assert.deepEqual([...source.unused].sort(), [
        'conditioner.embedders.0.transformer.text_model.embeddings.position_ids',
        'conditioner.embedders.1.model.logit_scale',
        'denoiser.sigmas',
      ]);
      sameKeys(
        source.configs.unet,
        folder.configs.unet,
        [
          'block_out_channels',
          'layers_per_block',
          'cross_attention_dim',
          'use_linear_projection',
          'down_block_types',
          'up_block_types',
          'in_channels',
          'out_channels',
          'transformer_layers_per_block',
          'addition_embed_type',
          'addition_time_embed_dim',
          'projection_class_embeddings_input_dim',
          'flip_sin_to_cos',
          'freq_shift',
        ],
        'unet',
      );
      sameKeys(
        source.configs.vae,
        folder.configs.vae,
        ['block_out_channels', 'layers_per_block', 'latent_channels', 'scaling_factor', 'force_upcast'],
        'vae',
      );
      const text = ['hidden_size', 'intermediate_size', 'num_hidden_layers', 'max_position_embeddings', 'vocab_size', 'hidden_act'];
      sameKeys(source.configs.textEncoder, folder.configs.textEncoder, text, 'text encoder');
      sameKeys(source.configs.textEncoder2, folder.configs.textEncoder2, [...text, 'projection_dim'], 'text encoder 2');
      assert.equal(source.configs.scheduler._class_name, 'EulerDiscreteScheduler');
      assert.equal(source.forceZerosForEmptyPrompt, true);
    } finally {
      source.close();
      folder.close();
    }
  });
}

test('with the diffusers folder as the config, its configs and both tokenizers are used', { skip }, async () => {
  const dir = join(FIXTURES, 'diffusers');
  const source = await openImportSource(join(FIXTURES, 'sdxl-sgm-fp32.safetensors'), { config: dir });
  const folder = openDiffusersFolder(dir);
  try {
    assert.deepEqual(source.configs, folder.configs);
    assert.equal(source.tokenizerDir, join(dir, 'tokenizer'));
    assert.equal(source.tokenizer2Dir, join(dir, 'tokenizer_2'));
    assert.equal(folder.tokenizer2Dir, join(dir, 'tokenizer_2'));
  } finally {
    source.close();
    folder.close();
  }
});
