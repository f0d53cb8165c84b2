// The SGM key map against diffusers itself: the fixture's single-file SDXL checkpoints were made from its
// diffusers folder with diffusers' convert_diffusers_to_original_sdxl.py functions, so every mapped tensor must
// equal the folder's tensor of the same name (fp32 exactly, fp16 to fp16 rounding), with none left over, and the
// configs inferred from the shapes must agree with the folder's (head counts aside: the tiny model's are not 64 wide).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { openDiffusersFolder } from './diffusers-folder.ts';
import { openImportSource } from './source.ts';
import { SDXL_FIXTURES as FIXTURES, sameSizes, sameWeights } from '../../tests/helpers/import-fixtures.ts';

const skip = existsSync(join(FIXTURES, 'sdxl-sgm-fp32.safetensors')) ? false : 'tests/fixtures/sdxl is absent';

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
      const textTime = ['addition_embed_type', 'addition_time_embed_dim', 'projection_class_embeddings_input_dim'];
      sameSizes(source.configs, folder.configs, {
        unet: ['transformer_layers_per_block', ...textTime, 'flip_sin_to_cos', 'freq_shift'],
        vae: ['scaling_factor', 'force_upcast'],
        textEncoder2: ['projection_dim'],
      });
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
