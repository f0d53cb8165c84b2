// The real check of the LDM key maps: the fixtures' single-file checkpoints were made from their
// diffusers folders by diffusers' own conversion script, so every mapped tensor must equal the
// folder's tensor of the same name (fp32 exactly, fp16 to fp16 rounding), with no name left over.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { openDiffusersFolder } from './diffusers-folder.ts';
import { openImportSource } from './source.ts';
import { IMPORT_FIXTURES as FIXTURES, sameSizes, sameWeights } from '../../tests/helpers/import-fixtures.ts';

const skip = existsSync(join(FIXTURES, 'sd1', 'diffusers')) ? false : 'tests/fixtures/import is absent';

const cases = [
  { file: 'sd1/sd1-ldm-fp32.safetensors', folder: 'sd1/diffusers', family: 'sd1', fp16: false },
  { file: 'sd1/sd1-ldm-fp16.safetensors', folder: 'sd1/diffusers', family: 'sd1', fp16: true },
  // One more (last) text layer in the LDM file, as real SD 2 has: it must be dropped.
  { file: 'sd2/sd2-ldm.safetensors', folder: 'sd2/diffusers', family: 'sd2', fp16: false },
] as const;

for (const c of cases) {
  test(`${c.file}: every tensor maps to the diffusers folder's tensor of the same name`, { skip }, async () => {
    const folder = openDiffusersFolder(join(FIXTURES, c.folder));
    // Without the config folder: everything inferred from the file itself.
    const source = await openImportSource(join(FIXTURES, c.file));
    try {
      assert.equal(source.kind, 'checkpoint');
      assert.equal(source.family, c.family);
      assert.equal(folder.family, c.family);
      for (const component of ['unet', 'vae', 'textEncoder'] as const) {
        sameWeights(source.weights[component], folder.weights[component], component, c.fp16);
      }
      // Sizes inferred from the shapes agree with the folder's configs (head counts are the fixtures' own).
      sameSizes(source.configs, folder.configs, { vae: ['in_channels', 'out_channels'] });
    } finally {
      source.close();
      folder.close();
    }
  });
}

test('with the diffusers folder as the config, its configs, tokenizer and prediction type are used', { skip }, async () => {
  const source = await openImportSource(join(FIXTURES, 'sd2/sd2-ldm.safetensors'), { config: join(FIXTURES, 'sd2/diffusers') });
  const folder = openDiffusersFolder(join(FIXTURES, 'sd2/diffusers'));
  try {
    assert.deepEqual(source.configs, folder.configs);
    assert.equal(source.tokenizerDir, join(FIXTURES, 'sd2/diffusers', 'tokenizer'));
    assert.equal(source.prediction, folder.prediction);
    assert.equal(source.predictionSource, 'config');
    sameWeights(source.weights.textEncoder, folder.weights.textEncoder, 'textEncoder', false);
  } finally {
    source.close();
    folder.close();
  }
});
