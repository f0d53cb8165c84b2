import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isDiffusersOnnxFolder, openDiffusersFolder } from './diffusers-folder.ts';
import { writeSafetensors, type TestTensor } from '../../tests/helpers/safetensors-writer.ts';

const root = mkdtempSync(join(tmpdir(), 'diffusers-folder-'));
test.after(() => rmSync(root, { recursive: true, force: true }));
let counter = 0;

interface FolderSpec {
  unetConfig?: Record<string, unknown>;
  textConfig?: Record<string, unknown>;
  scheduler?: Record<string, unknown>;
  modelIndex?: Record<string, unknown>;
  /** file name -> tensors, per component folder. */
  files?: Record<string, Record<string, Record<string, TestTensor>>>;
  extra?: Record<string, string>;
}

const t = (values: number[]): TestTensor => ({ shape: [values.length], values });

function folder(spec: FolderSpec = {}): string {
  const dir = join(root, `m${counter++}`);
  const write = (path: string, text: string) => {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), text);
  };
  write('model_index.json', JSON.stringify(spec.modelIndex ?? { _class_name: 'StableDiffusionPipeline' }));
  write('unet/config.json', JSON.stringify(spec.unetConfig ?? { in_channels: 4, cross_attention_dim: 768 }));
  write('vae/config.json', JSON.stringify({ latent_channels: 4 }));
  write('text_encoder/config.json', JSON.stringify(spec.textConfig ?? { hidden_act: 'quick_gelu' }));
  if (spec.scheduler) write('scheduler/scheduler_config.json', JSON.stringify(spec.scheduler));
  write('tokenizer/vocab.json', '{}');
  for (const [path, text] of Object.entries(spec.extra ?? {})) write(path, text);
  const files = spec.files ?? {
    unet: { 'diffusion_pytorch_model.safetensors': { 'conv_in.weight': t([1, 2]) } },
    vae: {
      'diffusion_pytorch_model.safetensors': {
        'decoder.conv_in.weight': t([3]),
        'decoder.mid_block.attentions.0.query.weight': { shape: [1, 1], values: [4] },
      },
    },
    text_encoder: {
      'model.safetensors': {
        'text_model.final_layer_norm.weight': t([5]),
        'text_model.embeddings.position_ids': { dtype: 'I64', shape: [1, 2], values: [0, 1] },
      },
    },
  };
  for (const [component, byName] of Object.entries(files)) {
    mkdirSync(join(dir, component), { recursive: true });
    for (const [name, tensors] of Object.entries(byName)) writeSafetensors(join(dir, component, name), tensors);
  }
  return dir;
}

test('a plain diffusers folder: weights under their names, configs, tokenizer, prediction from the scheduler', () => {
  const dir = folder({ scheduler: { prediction_type: 'v_prediction', beta_start: 0.00085 } });
  const f = openDiffusersFolder(dir);
  try {
    assert.equal(f.family, 'sd1');
    assert.equal(f.prediction, 'v_prediction');
    assert.equal(f.predictionSource, 'config');
    assert.equal(f.tokenizerDir, join(dir, 'tokenizer'));
    assert.deepEqual([...f.weights.unet.get('conv_in.weight').read()], [1, 2]);
    // Old diffusers VAE attention names come out as today's; position_ids (a buffer) is left out.
    assert.deepEqual(f.weights.vae.names().sort(), ['decoder.conv_in.weight', 'decoder.mid_block.attentions.0.to_q.weight']);
    assert.deepEqual(f.weights.textEncoder.names(), ['text_model.final_layer_norm.weight']);
    assert.throws(() => f.weights.unet.get('conv_out.weight'), /missing tensor conv_out\.weight \(unet of m\d+\)/);
  } finally {
    f.close();
  }
  const user = openDiffusersFolder(dir, { prediction: 'epsilon' });
  user.close();
  assert.deepEqual([user.prediction, user.predictionSource], ['epsilon', 'user']);
  const plain = openDiffusersFolder(folder());
  plain.close();
  assert.deepEqual(
    [plain.prediction, plain.predictionSource, plain.configs.scheduler.beta_schedule],
    ['epsilon', 'default', 'scaled_linear'],
  );
});

test('fp16 variant and sharded weights', () => {
  const dir = folder({
    files: {
      unet: {
        'diffusion_pytorch_model.fp16.safetensors': { 'conv_in.weight': { dtype: 'F16', shape: [2], values: [0.5, -1] } },
      },
      vae: {
        'diffusion_pytorch_model-00001-of-00002.safetensors': { 'decoder.conv_in.weight': t([1]) },
        'diffusion_pytorch_model-00002-of-00002.safetensors': { 'decoder.conv_out.weight': t([2]) },
      },
      text_encoder: { 'model.fp16.safetensors': { 'text_model.final_layer_norm.weight': { dtype: 'F16', shape: [1], values: [2] } } },
    },
    extra: {
      'vae/diffusion_pytorch_model.safetensors.index.json': JSON.stringify({
        metadata: {},
        weight_map: {
          'decoder.conv_in.weight': 'diffusion_pytorch_model-00001-of-00002.safetensors',
          'decoder.conv_out.weight': 'diffusion_pytorch_model-00002-of-00002.safetensors',
        },
      }),
    },
  });
  const f = openDiffusersFolder(dir);
  try {
    assert.deepEqual([...f.weights.unet.get('conv_in.weight').read()], [0.5, -1]);
    assert.deepEqual([...f.weights.vae.get('decoder.conv_out.weight').read()], [2]);
    assert.deepEqual([...f.weights.textEncoder.get('text_model.final_layer_norm.weight').read()], [2]);
  } finally {
    f.close();
  }
  // An index that names a tensor its shard does not hold.
  const broken = folder({
    extra: { 'vae/diffusion_pytorch_model.safetensors.index.json': '{}' },
    files: {
      unet: { 'diffusion_pytorch_model.safetensors': { 'conv_in.weight': t([1]) } },
      vae: { 'diffusion_pytorch_model.fp16.safetensors': { 'decoder.conv_in.weight': t([1]) } },
      text_encoder: { 'model.safetensors': { 'text_model.final_layer_norm.weight': t([1]) } },
    },
  });
  openDiffusersFolder(broken).close(); // the fp16 file wins over the index
  const lying = folder({
    files: {
      unet: { 'diffusion_pytorch_model-00001-of-00001.safetensors': { 'conv_in.weight': t([1]) } },
      vae: { 'diffusion_pytorch_model.safetensors': { 'decoder.conv_in.weight': t([1]) } },
      text_encoder: { 'model.safetensors': { 'text_model.final_layer_norm.weight': t([1]) } },
    },
    extra: {
      'unet/diffusion_pytorch_model.safetensors.index.json': JSON.stringify({
        weight_map: { 'conv_out.weight': 'diffusion_pytorch_model-00001-of-00001.safetensors' },
      }),
    },
  });
  assert.throws(() => openDiffusersFolder(lying), /unet: the index says tensor conv_out\.weight is in .*, which does not have it/);
});

test('pickles are refused, never unpickled; missing weights and configs are named', () => {
  const pickled = folder({
    files: { vae: { 'diffusion_pytorch_model.safetensors': { 'decoder.conv_in.weight': t([1]) } } },
    extra: { 'unet/diffusion_pytorch_model.bin': 'PK', 'text_encoder/model.safetensors': '' },
  });
  assert.throws(
    () => openDiffusersFolder(pickled),
    /unet\/diffusion_pytorch_model\.bin is a PyTorch pickle; only \.safetensors weights are imported/,
  );
  const empty = folder({ files: {} });
  assert.throws(() => openDiffusersFolder(empty), /unet\/ has no diffusion_pytorch_model\.safetensors/);
  const noConfig = folder();
  rmSync(join(noConfig, 'vae', 'config.json'));
  assert.throws(() => openDiffusersFolder(noConfig), /vae\/config\.json is missing/);
});

test('families and unsupported pipelines', () => {
  const sd2 = openDiffusersFolder(folder({ unetConfig: { in_channels: 4, cross_attention_dim: 1024 } }));
  sd2.close();
  assert.equal(sd2.family, 'sd2');
  const tinySd2 = openDiffusersFolder(
    folder({ unetConfig: { in_channels: 4, cross_attention_dim: 32 }, textConfig: { hidden_act: 'gelu' } }),
  );
  tinySd2.close();
  assert.equal(tinySd2.family, 'sd2');
  assert.throws(
    () => openDiffusersFolder(folder({ modelIndex: { _class_name: 'StableDiffusionXLPipeline' } })),
    /is an SDXL-like model without SDXL's two text encoders and text_time embedding \(StableDiffusionXLPipeline\): not supported yet/,
  );
  assert.throws(
    () => openDiffusersFolder(folder({ modelIndex: { _class_name: 'StableDiffusionXLImg2ImgPipeline', requires_aesthetics_score: true } })),
    /is the Stable Diffusion XL refiner \(it refines SDXL base images; import the base model\): not supported yet/,
  );
  assert.throws(
    () => openDiffusersFolder(folder({ unetConfig: { in_channels: 9, cross_attention_dim: 768 } })),
    /inpainting model \(UNet with 9 input channels\): not supported yet/,
  );
  assert.throws(
    () => openDiffusersFolder(folder({ modelIndex: { _class_name: 'FluxPipeline' }, extra: { 'transformer/config.json': '{}' } })),
    /FLUX\.1: not supported yet/,
  );
});

test('a diffusers-ONNX folder is recognised: nothing to import', () => {
  const dir = folder({ extra: { 'unet/model.onnx': 'x' } });
  assert.ok(isDiffusersOnnxFolder(dir));
  assert.throws(() => openDiffusersFolder(dir), /already a diffusers-ONNX folder: add it directly/);
});
