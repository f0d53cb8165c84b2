// The family an embedding is for, as the LoRA and embedding list shows it: its files name none, so it comes from
// the vectors' widths (SD 1's text encoder is 768 wide, SD 2's 1024; SDXL files hold a clip_l and clip_g pair).
// A1111 skips an embedding whose width does not fit the loaded model; the list marks it instead.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { embeddingBaseModel } from '../src-core/adapters/embedding-file.ts';
import { AdapterLibrary } from '../src-core/adapters/library.ts';
import { writeSafetensors } from './helpers/safetensors-writer.ts';

const FIXTURES = join(import.meta.dirname, 'fixtures', 'lora');

test('an embedding family from its widths, for .safetensors and .pt files; unreadable files have none', () => {
  const dir = mkdtempSync(join(tmpdir(), 'embedding-family-'));
  try {
    const file = (name: string, tensors: Parameters<typeof writeSafetensors>[1]) => writeSafetensors(join(dir, name), tensors);
    assert.equal(embeddingBaseModel(file('sd1.safetensors', { emb_params: { shape: [2, 768] } })), 'SD 1');
    assert.equal(embeddingBaseModel(file('sd1-one.safetensors', { emb_params: { shape: [768] } })), 'SD 1');
    // diffusers saves one tensor under the token's name.
    assert.equal(embeddingBaseModel(file('sd2.safetensors', { '<cat>': { shape: [1, 1024] } })), 'SD 2');
    assert.equal(embeddingBaseModel(join(FIXTURES, 'embeddings-sdxl', 'xyzemb.safetensors')), 'SDXL');
    // The tiny test models' 32-wide vectors: no family.
    assert.equal(embeddingBaseModel(join(FIXTURES, 'embeddings', 'xyzemb.safetensors')), undefined);
    assert.equal(embeddingBaseModel(join(FIXTURES, 'embeddings-pt', 'xyzemb.pt')), undefined);
    assert.equal(embeddingBaseModel(file('two.safetensors', { a: { shape: [1, 768] }, b: { shape: [1, 768] } })), undefined);
    // A hostile pickle is refused, not run, and listed without a family.
    rmSync('/tmp/restart-studio-evil-pt-ran', { force: true });
    assert.equal(embeddingBaseModel(join(FIXTURES, 'embeddings-pt', 'evil.pt')), undefined);
    assert.equal(existsSync('/tmp/restart-studio-evil-pt-ran'), false);
    assert.equal(embeddingBaseModel(join(dir, 'missing.safetensors')), undefined);

    // The library lists it (read once per file version).
    copyFileSync(join(FIXTURES, 'embeddings-sdxl', 'xyzemb.safetensors'), join(dir, 'sdxl-emb.safetensors'));
    const listed = new AdapterLibrary([], [dir]).embeddings().map((e) => [e.name, e.baseModel]);
    assert.deepEqual(listed, [
      ['sd1-one', 'SD 1'],
      ['sd1', 'SD 1'],
      ['sd2', 'SD 2'],
      ['sdxl-emb', 'SDXL'],
      ['two', undefined],
    ]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
