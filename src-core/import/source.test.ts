import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspectImportSource, openImportSource, sourceKind } from './source.ts';
import { TINY_SD1, TINY_SD2, ldmEntries, ldmVaeEntries, valuesFor, type LdmEntry } from '../../tests/helpers/ldm-checkpoints.ts';
import { writeSafetensors, type TestTensor } from '../../tests/helpers/safetensors-writer.ts';

const dir = mkdtempSync(join(tmpdir(), 'import-source-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

/** Stored as F16 (as most checkpoints are) unless said otherwise: the first value, entry index + 1 < 2048, stays exact. */
function writeEntries(
  name: string,
  entries: LdmEntry[],
  offset = 0,
  dtypes: Record<string, TestTensor['dtype']> = {},
  dtype: TestTensor['dtype'] = 'F16',
): string {
  const tensors: Record<string, TestTensor> = {};
  entries.forEach((e, i) => {
    tensors[e.key] = { shape: e.shape, values: valuesFor(i + offset, e.shape), dtype: dtypes[e.key] ?? dtype };
  });
  return writeSafetensors(join(dir, name), tensors);
}

const sd1Entries = ldmEntries(TINY_SD1, { ema: true });
const sd1 = writeEntries('sd1.safetensors', sd1Entries, 0, { 'cond_stage_model.transformer.text_model.embeddings.position_ids': 'I64' });
const sd2 = writeEntries('sd2.safetensors', ldmEntries(TINY_SD2));

test('an SD 1 checkpoint: weights, inferred configs, epsilon by default, notes', async () => {
  assert.equal(sourceKind(sd1), 'checkpoint');
  const source = await openImportSource(sd1);
  try {
    assert.deepEqual([source.kind, source.family, source.prediction, source.predictionSource], ['checkpoint', 'sd1', 'epsilon', 'default']);
    assert.equal(source.tokenizerDir, undefined);
    assert.deepEqual(source.configs.unet.block_out_channels, TINY_SD1.channels);
    assert.equal(source.configs.scheduler.prediction_type, 'epsilon');
    assert.deepEqual(source.unused, ['cond_stage_model.transformer.text_model.embeddings.position_ids']);
    assert.match(source.notes.join('\n'), /Stable Diffusion 1\.x checkpoint/);
    assert.match(source.notes.join('\n'), /2 EMA tensors \(model_ema\.\*\) ignored/);
    const index = sd1Entries.findIndex((e) => e.key === 'model.diffusion_model.out.2.weight');
    assert.equal(source.weights.unet.get('conv_out.weight').read()[0], index + 1);
  } finally {
    source.close();
  }
});

test("a separate VAE file replaces the checkpoint's", async () => {
  const vaeFile = writeEntries('vae-ft-mse.safetensors', ldmVaeEntries(TINY_SD1), 5000, {}, 'F32');
  const source = await openImportSource(sd1, { vae: vaeFile });
  try {
    assert.equal(source.weights.vae.get('encoder.conv_in.weight').read()[0], 5001);
    assert.match(source.notes.join('\n'), /VAE from vae-ft-mse\.safetensors/);
  } finally {
    source.close();
  }
  await assert.rejects(openImportSource(sd1, { vae: join(dir, 'vae.ckpt') }), /vae\.ckpt is a PyTorch pickle/);
  // A checkpoint without a VAE of its own is fine when a VAE file is given, and an error when not.
  const noVae = writeEntries(
    'no-vae.safetensors',
    ldmEntries(TINY_SD1).filter((e) => e.component !== 'vae'),
  );
  await assert.rejects(
    openImportSource(noVae),
    /no-vae\.safetensors has no VAE \(no first_stage_model\.\* tensors\); pass a separate VAE file/,
  );
  const withVae = await openImportSource(noVae, { vae: vaeFile });
  withVae.close();
  assert.deepEqual(withVae.configs.vae.block_out_channels, TINY_SD1.vae.channels);
  // Another checkpoint's VAE is taken too (its other tensors unused); a file without a decoder is refused.
  const other = await openImportSource(sd1, { vae: sd2 });
  other.close();
  assert.match(other.notes.join('\n'), /VAE from sd2\.safetensors \(\d+ of its tensors unused\)/);
  const unetOnly = writeEntries(
    'unet-only.safetensors',
    ldmEntries(TINY_SD1).filter((e) => e.component === 'unet'),
  );
  await assert.rejects(openImportSource(sd1, { vae: unetOnly }), /unet-only\.safetensors is not a VAE: it has no decoder/);
});

test('SD 2 without a yaml needs the UNet test; settlePrediction records its answer', async () => {
  const source = await openImportSource(sd2);
  try {
    assert.deepEqual([source.family, source.prediction, source.predictionSource], ['sd2', 'needs-test', 'needs-test']);
    assert.equal(source.configs.unet.sample_size, 64);
    source.settlePrediction('v_prediction');
    assert.deepEqual([source.prediction, source.predictionSource], ['v_prediction', 'detected']);
    assert.equal(source.configs.scheduler.prediction_type, 'v_prediction');
    assert.equal(source.configs.unet.sample_size, 96);
    assert.equal(source.configs.vae.sample_size, 768);
    assert.equal(source.configs.textEncoder.num_hidden_layers, TINY_SD2.text.layers - 1);
  } finally {
    source.close();
  }
  const chosen = await openImportSource(sd2, { prediction: 'epsilon' });
  chosen.close();
  assert.deepEqual([chosen.prediction, chosen.predictionSource], ['epsilon', 'user']);
});

test('a config folder overrides what it has, and its text layer count is kept', async () => {
  const config = join(dir, 'config');
  mkdirSync(join(config, 'text_encoder'), { recursive: true });
  mkdirSync(join(config, 'scheduler'), { recursive: true });
  writeFileSync(
    join(config, 'text_encoder', 'config.json'),
    JSON.stringify({ hidden_act: 'gelu', num_hidden_layers: 3, num_attention_heads: 3 }),
  );
  writeFileSync(join(config, 'scheduler', 'scheduler_config.json'), JSON.stringify({ prediction_type: 'v_prediction', beta_start: 0.001 }));
  const source = await openImportSource(sd2, { config });
  try {
    assert.deepEqual(source.configs.textEncoder, { hidden_act: 'gelu', num_hidden_layers: 3, num_attention_heads: 3 });
    assert.equal(source.configs.scheduler.beta_start, 0.001);
    assert.deepEqual([source.prediction, source.predictionSource], ['v_prediction', 'config']);
    assert.ok(source.weights.textEncoder.has('text_model.encoder.layers.2.self_attn.v_proj.bias'));
    assert.equal(source.configs.unet.sample_size, 96, 'inferred UNet config, v-model size');
  } finally {
    source.close();
  }
});

test('bad inputs: pickles, missing paths, other folders, unsupported checkpoints, non-float weights', async () => {
  await assert.rejects(openImportSource(join(dir, 'model.ckpt')), /does not exist/);
  writeFileSync(join(dir, 'model.ckpt'), 'PK');
  await assert.rejects(
    openImportSource(join(dir, 'model.ckpt')),
    /model\.ckpt is a PyTorch pickle; only \.safetensors checkpoints are imported/,
  );
  mkdirSync(join(dir, 'photos'));
  await assert.rejects(openImportSource(join(dir, 'photos')), /photos is a folder but not a diffusers model folder/);
  mkdirSync(join(dir, 'onnx', 'unet'), { recursive: true });
  writeFileSync(join(dir, 'onnx', 'unet', 'model.onnx'), '');
  await assert.rejects(openImportSource(join(dir, 'onnx')), /already a diffusers-ONNX folder: add it directly/);
  const xl = writeSafetensors(join(dir, 'xl.safetensors'), {
    'model.diffusion_model.input_blocks.0.0.weight': { shape: [2, 4, 1, 1] },
    'conditioner.embedders.0.model.ln_final.weight': { shape: [2] },
  });
  await assert.rejects(
    openImportSource(xl),
    /xl\.safetensors is the Stable Diffusion XL refiner \(it refines SDXL base images; import the base model\): not supported yet/,
  );
  const ints = writeEntries('ints.safetensors', ldmEntries(TINY_SD1), 0, { 'model.diffusion_model.out.2.bias': 'I64' });
  await assert.rejects(openImportSource(ints), /tensor conv_out\.bias of the UNet has dtype I64/);
  const cut = join(dir, 'cut.safetensors');
  writeFileSync(cut, Buffer.from([1, 2, 3]));
  await assert.rejects(openImportSource(cut), /cut\.safetensors: truncated file/);
});

test('inspection for the UI: kind, family, or the problem', () => {
  assert.deepEqual(inspectImportSource(sd1), {
    kind: 'checkpoint',
    family: 'sd1',
    architecture: 'sd1',
    notes: ['Stable Diffusion 1.x checkpoint'],
  });
  assert.equal(inspectImportSource(sd2).family, 'sd2');
  assert.match(inspectImportSource(join(dir, 'xl.safetensors')).problem ?? '', /Stable Diffusion XL refiner .*: not supported yet/);
  assert.match(inspectImportSource(join(dir, 'cut.safetensors')).problem ?? '', /truncated/);
  assert.equal(inspectImportSource(join(dir, 'onnx')).kind, 'diffusers-onnx');
  assert.match(inspectImportSource(join(dir, 'nothing-here')).problem ?? '', /does not exist/);
});
