// The model list: built-in, the scanned models folder, added folders (in place) and imports (in the
// cache); models.json validated when read; removing never touches a user's own folder; what the
// picker shows (SD 1 / SD 2, prediction, precision from the ONNX graph, size).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { folderSize, missingModelParts, modelFacts, onnxInputType } from './model-facts.ts';
import { ModelLibrary } from './model-library.ts';

const FIXTURES = fileURLToPath(new URL('../tests/fixtures/', import.meta.url));

function setup() {
  const root = mkdtempSync(join(tmpdir(), 'model-library-'));
  const builtinRoot = join(root, 'builtin');
  cpSync(join(FIXTURES, 'tiny-sd-eps-int64'), join(builtinRoot, 'shipped'), { recursive: true });
  const dataDir = join(root, 'data');
  mkdirSync(dataDir);
  return { root, dataDir, library: new ModelLibrary({ dataDir, builtinRoot }) };
}

test("precision is read from the UNet graph's sample input; family from the text encoder's width", () => {
  assert.equal(onnxInputType(join(FIXTURES, 'tiny-sd-eps-int64', 'unet', 'model.onnx'), 'sample'), 'float32');
  assert.equal(onnxInputType(join(FIXTURES, 'tiny-sd-v-fp16', 'unet', 'model.onnx'), 'sample'), 'float16');
  assert.equal(onnxInputType(join(FIXTURES, 'tiny-sd-v-fp16', 'unet', 'model.onnx'), 'no-such-input'), null);
  assert.equal(onnxInputType(join(FIXTURES, 'tiny-sd-v-fp16', 'model_index.json'), 'sample'), null, 'not an ONNX file');

  const facts = modelFacts(join(FIXTURES, 'tiny-sd-v-fp16'));
  assert.deepEqual({ ...facts, bytes: facts.bytes > 0 }, { family: null, prediction: 'v_prediction', precision: 'fp16', bytes: true });
  const { root } = setup();
  const sd2 = join(root, 'sd2');
  cpSync(join(FIXTURES, 'tiny-sd-eps-int64'), sd2, { recursive: true });
  writeFileSync(join(sd2, 'text_encoder', 'config.json'), JSON.stringify({ hidden_size: 1024 }));
  assert.equal(modelFacts(sd2).family, 'SD 2');
  assert.equal(modelFacts(sd2).prediction, 'epsilon');
  assert.equal(
    folderSize(sd2),
    folderSize(join(FIXTURES, 'tiny-sd-eps-int64')) -
      readFileSync(join(FIXTURES, 'tiny-sd-eps-int64', 'text_encoder', 'config.json')).length +
      JSON.stringify({ hidden_size: 1024 }).length,
  );
});

test('the list: built-in, then folders in the models folder, then added ones; only added ones are removable', () => {
  const { root, dataDir, library } = setup();
  assert.ok(existsSync(join(dataDir, 'models')), 'the models folder is made, for the user to find');
  cpSync(join(FIXTURES, 'tiny-sd-v-fp16'), join(dataDir, 'models', 'dropped-in'), { recursive: true });
  mkdirSync(join(dataDir, 'models', 'not-a-model'));
  const mine = join(root, 'my-onnx-folder');
  cpSync(join(FIXTURES, 'tiny-sd-eps-int64'), mine, { recursive: true });
  const added = library.add({ dir: mine, label: 'Mine', kind: 'diffusers-onnx' });
  assert.equal(added.name, 'Mine');
  const list = library.list();
  assert.deepEqual(
    list.map((m) => [m.name, m.origin, m.removable, m.embedded]),
    [
      ['shipped', 'built-in', false, true],
      ['dropped-in', 'models-folder', false, false],
      ['Mine', 'added', true, false],
    ],
  );
  assert.equal(list[1].precision, 'fp16');

  assert.throws(() => library.remove(list[0].dir), /built-in model cannot be removed/);
  assert.throws(() => library.remove(list[1].dir), /in the models folder/);
  assert.deepEqual(library.remove(mine), { removed: true, deleted: false });
  assert.ok(existsSync(join(mine, 'unet', 'model.onnx')), 'a folder added in place is never deleted');
  assert.equal(library.list().length, 2);
  assert.deepEqual(library.remove(mine), { removed: false, deleted: false });
});

test('removing an imported model deletes its folder in the cache, never the source', () => {
  const { root, dataDir, library } = setup();
  const source = join(root, 'model.safetensors');
  writeFileSync(source, 'weights');
  const cached = join(library.cacheDir, 'sd-0123');
  cpSync(join(FIXTURES, 'tiny-sd-eps-int64'), cached, { recursive: true });
  const model = library.add({ dir: cached, label: 'model', kind: 'checkpoint', source });
  assert.equal(model.origin, 'imported');
  assert.deepEqual(library.remove(cached), { removed: true, deleted: true });
  assert.ok(!existsSync(cached));
  assert.ok(existsSync(source));
  assert.deepEqual(JSON.parse(readFileSync(join(dataDir, 'models.json'), 'utf8')).models, []);
});

test('a models.json that does not validate is set aside and the list starts empty', () => {
  const { dataDir, root } = setup();
  writeFileSync(join(dataDir, 'models.json'), JSON.stringify({ version: 1, models: [{ dir: 42 }] }));
  const library = new ModelLibrary({ dataDir, builtinRoot: join(root, 'builtin') });
  assert.match(library.setAside ?? '', /set aside as models\.json\.invalid-\d+/);
  assert.deepEqual(library.entries(), []);
  assert.equal(readdirSync(dataDir).filter((n) => n.startsWith('models.json.invalid-')).length, 1);
  assert.equal(library.list().length, 1, 'the built-in model is still listed');
});

test('an added folder that was moved away is not offered, and comes back when it returns', () => {
  const { root, library } = setup();
  const mine = join(root, 'moving');
  cpSync(join(FIXTURES, 'tiny-sd-eps-int64'), mine, { recursive: true });
  library.add({ dir: mine, label: 'moving', kind: 'diffusers-onnx' });
  assert.equal(library.list().length, 2);
  renameSync(mine, `${mine}-away`);
  assert.equal(library.list().length, 1);
  assert.equal(library.entries().length, 1, 'the entry stays until removed');
  renameSync(`${mine}-away`, mine);
  assert.equal(library.list().length, 2);
});

test('the parts a diffusers-ONNX folder cannot load without: tokenizer files, the three graphs, model_index.json', () => {
  const { root } = setup();
  const dir = join(root, 'complete');
  cpSync(join(FIXTURES, 'tiny-sd-eps-int64'), dir, { recursive: true });
  assert.deepEqual(missingModelParts(dir), ['tokenizer/'], 'the fixture ships without its tokenizer');
  mkdirSync(join(dir, 'tokenizer'));
  for (const file of ['vocab.json', 'merges.txt', 'tokenizer_config.json']) writeFileSync(join(dir, 'tokenizer', file), '{}');
  assert.deepEqual(missingModelParts(dir), []);
  rmSync(join(dir, 'tokenizer', 'merges.txt'));
  rmSync(join(dir, 'vae_decoder', 'model.onnx'));
  rmSync(join(dir, 'model_index.json'));
  assert.deepEqual(missingModelParts(dir), ['model_index.json', 'vae_decoder/model.onnx', 'tokenizer/merges.txt']);
  // SDXL's second text encoder needs its own tokenizer.
  mkdirSync(join(dir, 'text_encoder_2'));
  assert.deepEqual(missingModelParts(dir).slice(-1), ['tokenizer_2/']);
});
