// Damaged copies of a model folder: each problem gets its own specific error, naming the part.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, readFileSync, rmSync, symlinkSync, truncateSync, writeFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { loadModel } from '../src-core/model/model.ts';
import { ModelError } from '../src-core/model/errors.ts';
import { FIXTURES, modelFolder } from './helpers/model-folders.ts';
import { webgpuSkip } from './helpers/webgpu.ts';
import { providerAvailability } from '../src-core/model/providers.ts';

async function expectModelError(dir: string, pattern: RegExp): Promise<void> {
  await assert.rejects(loadModel(dir), (error: Error) => {
    assert.ok(error instanceof ModelError, `${error.name}: ${error.message}`);
    assert.match(error.message, pattern);
    return true;
  });
}

function editJson(path: string, edit: (json: Record<string, unknown>) => void): void {
  const json = JSON.parse(readFileSync(path, 'utf8'));
  edit(json);
  writeFileSync(path, JSON.stringify(json));
}

test('a folder that is not a model', async () => {
  await expectModelError('/definitely/not/here', /is not a folder/);
  const dir = modelFolder('tiny-sd-eps-int64');
  rmSync(join(dir, 'model_index.json'));
  await expectModelError(dir, /^model: model_index.json is missing/);
});

test('a missing component', async () => {
  const dir = modelFolder('tiny-sd-eps-int64');
  rmSync(join(dir, 'unet'), { recursive: true });
  await expectModelError(dir, /^unet: unet\/model.onnx is missing/);
  const noScheduler = modelFolder('tiny-sd-eps-int64');
  rmSync(join(noScheduler, 'scheduler'), { recursive: true });
  await expectModelError(noScheduler, /^scheduler: scheduler\/scheduler_config.json is missing/);
  const noTokenizer = modelFolder('tiny-sd-eps-int64');
  rmSync(join(noTokenizer, 'tokenizer', 'merges.txt'));
  await expectModelError(noTokenizer, /^tokenizer: .*merges.txt/);
});

test('a truncated or corrupt ONNX file', async () => {
  const dir = modelFolder('tiny-sd-eps-int64');
  const path = join(dir, 'text_encoder', 'model.onnx');
  truncateSync(path, Math.floor(statSync(path).size / 2));
  await expectModelError(dir, /^text_encoder: text_encoder\/model.onnx is not a readable ONNX model \(truncated or corrupt file\?\)/);
  const garbage = modelFolder('tiny-sd-eps-int64');
  writeFileSync(join(garbage, 'vae_decoder', 'model.onnx'), 'this is not protobuf at all');
  await expectModelError(garbage, /^vae_decoder: .*not a readable ONNX model/);
  const empty = modelFolder('tiny-sd-eps-int64');
  writeFileSync(join(empty, 'unet', 'model.onnx'), '');
  await expectModelError(empty, /^unet: unet\/model.onnx is empty/);
});

test('missing external weights (weights.pb, model.onnx_data)', async () => {
  const sd1 = modelFolder('tiny-sd-eps-int64');
  rmSync(join(sd1, 'unet', 'weights.pb'));
  await expectModelError(sd1, /^unet: unet\/model.onnx refers to external weights that cannot be read/);
  const sd2 = modelFolder('tiny-sd-v-fp16');
  rmSync(join(sd2, 'unet', 'model.onnx_data'));
  await expectModelError(sd2, /^unet: unet\/model.onnx refers to external weights that cannot be read/);
});

test('swapped components and unexpected input names', async () => {
  const dir = modelFolder('tiny-sd-eps-int64');
  copyFileSync(join(dir, 'vae_decoder', 'model.onnx'), join(dir, 'text_encoder', 'model.onnx'));
  await expectModelError(dir, /^text_encoder: expected an input named "input_ids" \(as diffusers exports it\), found "latent_sample"/);
  const other = modelFolder('tiny-sd-eps-int64');
  copyFileSync(join(other, 'vae_encoder', 'model.onnx'), join(other, 'vae_decoder', 'model.onnx'));
  await expectModelError(other, /^vae_decoder: expected an input named "latent_sample"/);
});

test('text encoder and UNet hidden sizes that do not match', async () => {
  const dir = modelFolder('tiny-sd-eps-int64');
  const sd2 = modelFolder('tiny-sd-v-fp16');
  copyFileSync(join(sd2, 'text_encoder', 'model.onnx'), join(dir, 'text_encoder', 'model.onnx'));
  await expectModelError(dir, /^unet: the text encoder produces 12-wide states but the UNet expects 8/);
});

test('unsupported prediction type and absurd config values', async () => {
  const dir = modelFolder('tiny-sd-eps-int64');
  editJson(join(dir, 'scheduler', 'scheduler_config.json'), (c) => {
    c.prediction_type = 'sample';
  });
  await expectModelError(dir, /^scheduler: prediction_type "sample" is not supported/);
  const betas = modelFolder('tiny-sd-eps-int64');
  editJson(join(betas, 'scheduler', 'scheduler_config.json'), (c) => {
    c.beta_end = 7;
  });
  await expectModelError(betas, /^scheduler: .*beta_start < beta_end < 1/);
  const scaling = modelFolder('tiny-sd-eps-int64');
  editJson(join(scaling, 'vae_decoder', 'config.json'), (c) => {
    c.scaling_factor = -1;
  });
  await expectModelError(scaling, /^vae_decoder: config value scaling_factor = -1 must be a positive number/);
  const broken = modelFolder('tiny-sd-eps-int64');
  writeFileSync(join(broken, 'unet', 'config.json'), '{ "sample_size": ');
  await expectModelError(broken, /^unet: unet\/config.json is not valid JSON/);
});

test('an execution provider that cannot run falls back to the CPU, with the reason recorded', async () => {
  const dir = modelFolder('tiny-sd-eps-int64');
  // Neither CUDA libraries nor a WebGPU adapter exist on the CI machines. (A machine with a software Vulkan, such as
  // Mesa's lavapipe, runs WebGPU: there it must load on it.)
  const webgpuRuns = (await webgpuSkip()) === false;
  for (const provider of ['cuda', 'webgpu'] as const) {
    const model = await loadModel(dir, { provider });
    try {
      if (provider === 'webgpu' && webgpuRuns) {
        assert.equal(model.provider, 'webgpu');
        assert.deepEqual(model.fallbacks, []);
        continue;
      }
      assert.equal(model.provider, 'cpu');
      assert.equal(model.fallbacks.length, 1);
      assert.equal(model.fallbacks[0].provider, provider);
      // Said before trying (no library, no Vulkan loader: nothing printed by onnxruntime) or after a failed try.
      assert.match(
        model.fallbacks[0].reason,
        provider === 'cuda'
          ? /CUDA provider library is not installed .*CUDA 12 runtime and cuDNN 9|CUDA is not usable: .*CUDA 12 runtime \/ cuDNN 9/
          : /no Vulkan loader .* WebGPU finds no GPU|WebGPU is not usable: no GPU adapter/,
      );
    } finally {
      await model.dispose();
    }
  }
  const auto = await loadModel(dir, { provider: 'auto' });
  // Auto passes over a WebGPU that has no GPU to run on (a software Vulkan), as providers.test.ts checks.
  const webgpuForAuto = webgpuRuns && !providerAvailability().find((p) => p.name === 'webgpu')?.notForAuto;
  assert.equal(auto.provider, webgpuForAuto ? 'webgpu' : 'cpu');
  assert.ok(auto.fallbacks.every((f) => f.reason.length > 10));
  await auto.dispose();
  // A broken file is still a model error, not a provider fallback.
  const broken = modelFolder('tiny-sd-eps-int64');
  writeFileSync(join(broken, 'unet', 'model.onnx'), 'garbage');
  await assert.rejects(loadModel(broken, { provider: 'webgpu' }), /unet: unet\/model.onnx is not a readable ONNX model/);
});

/** Moves a model file out of the folder and leaves a symbolic link to it in its place. */
function linkFromOutside(dir: string, file: string, outsideName: string): void {
  const outside = join(dir, '..', outsideName);
  copyFileSync(join(dir, file), outside);
  rmSync(join(dir, file));
  symlinkSync(outside, join(dir, file));
}

test('links pointing outside the model folder are refused', async () => {
  const dir = modelFolder('tiny-sd-eps-int64');
  linkFromOutside(dir, join('unet', 'weights.pb'), 'elsewhere.pb');
  await expectModelError(dir, /^unet: unet\/weights.pb points outside the model folder .*refusing to load it/);
  const linkedGraph = modelFolder('tiny-sd-eps-int64');
  rmSync(join(linkedGraph, 'vae_decoder'), { recursive: true });
  symlinkSync(join(dir, 'vae_decoder'), join(linkedGraph, 'vae_decoder'));
  await expectModelError(linkedGraph, /^vae_decoder: vae_decoder points outside the model folder/);
});

test('a tokenizer file linked from outside the folder is refused', async () => {
  const dir = modelFolder('tiny-sd-eps-int64');
  linkFromOutside(dir, join('tokenizer', 'vocab.json'), 'vocab.json');
  await expectModelError(dir, /^tokenizer: tokenizer\/vocab.json points outside the model folder/);
});

test('components with the right names but wrong dtypes', async () => {
  const dir = modelFolder('tiny-sd-eps-int64');
  copyFileSync(join(FIXTURES, 'bad-parts', 'text_encoder_float_ids.onnx'), join(dir, 'text_encoder', 'model.onnx'));
  await expectModelError(dir, /^text_encoder: input_ids has type float32; int32 or int64 expected/);
  const unet = modelFolder('tiny-sd-eps-int64');
  rmSync(join(unet, 'unet', 'weights.pb'));
  copyFileSync(join(FIXTURES, 'bad-parts', 'unet_int_sample.onnx'), join(unet, 'unet', 'model.onnx'));
  await expectModelError(unet, /^unet: input "sample" has type int32; float32 or float16 expected/);
});

/** Bytes that are not an ONNX file, the same on every run. */
function noiseBytes(length: number, seed: number): Buffer {
  let state = seed >>> 0;
  return Buffer.from(
    Array.from({ length }, () => {
      state = (Math.imul(state, 1103515245) + 12345) >>> 0;
      return state >>> 24;
    }),
  );
}

test('a corrupt model file under a GPU provider is reported as a corrupt file, not as the GPU failure (issue 14, item 7)', async () => {
  const dir = modelFolder('tiny-sd-eps-int64');
  writeFileSync(join(dir, 'text_encoder', 'model.onnx'), noiseBytes(4096, 14));
  // CUDA's libraries and a WebGPU adapter are missing on the CI machines, so each provider fails
  // first; the CPU then fails on the file itself, and that is what the user must hear.
  for (const provider of ['auto', 'cuda', 'webgpu'] as const) {
    await assert.rejects(loadModel(dir, { provider }), (error: Error) => {
      assert.ok(error instanceof ModelError, `${provider}: ${error.name}: ${error.message}`);
      assert.match(
        error.message,
        /^text_encoder: text_encoder\/model.onnx is not a readable ONNX model \(truncated or corrupt file\?\)/,
        provider,
      );
      assert.doesNotMatch(error.message, /CUDA|shared librar|cuDNN|WebGPU|adapter/i, provider);
      return true;
    });
  }
});

test('scheduler configs that load but make no sense are refused at load time (issue 14, item 9)', async () => {
  const huge = modelFolder('tiny-sd-eps-int64');
  // A 24 MB trained_betas array.
  editJson(join(huge, 'scheduler', 'scheduler_config.json'), (c) => {
    c.trained_betas = new Array(2_000_000).fill(0.0012345678);
  });
  await expectModelError(huge, /^scheduler: scheduler\/scheduler_config.json is 2\d\.\d MB; a model config is at most 1 MB/);
  const long = modelFolder('tiny-sd-eps-int64');
  editJson(join(long, 'scheduler', 'scheduler_config.json'), (c) => {
    c.trained_betas = new Array(20_000).fill(0.001);
    c.num_train_timesteps = 20_000;
  });
  await expectModelError(long, /^scheduler: .*20000 .*at most 10000/);
  const mismatched = modelFolder('tiny-sd-eps-int64');
  editJson(join(mismatched, 'scheduler', 'scheduler_config.json'), (c) => {
    c.trained_betas = new Array(999).fill(0.001);
  });
  await expectModelError(mismatched, /^scheduler: trained_betas has 999 entries but num_train_timesteps is 1000/);
  const steps = modelFolder('tiny-sd-eps-int64');
  editJson(join(steps, 'scheduler', 'scheduler_config.json'), (c) => {
    c.num_train_timesteps = 50_000;
  });
  await expectModelError(steps, /^scheduler: .*num_train_timesteps must be a whole number in 2\.\.10000 \(got 50000\)/);
  const notNumbers = modelFolder('tiny-sd-eps-int64');
  editJson(join(notNumbers, 'scheduler', 'scheduler_config.json'), (c) => {
    c.trained_betas = ['0.1', {}];
    c.num_train_timesteps = 2;
  });
  await expectModelError(notNumbers, /^scheduler: .*trained_betas must be a list of numbers/);
});

test('VAE and UNet configs whose image size is impossible or disagrees with the decoder are refused (issue 14, item 9)', async () => {
  const giant = modelFolder('tiny-sd-eps-int64');
  editJson(join(giant, 'vae_decoder', 'config.json'), (c) => {
    c.block_out_channels = [8, 8, 8, 8, 8, 8, 8, 8];
    c.sample_size = 4096;
  });
  editJson(join(giant, 'unet', 'config.json'), (c) => {
    c.sample_size = 4096;
  });
  await expectModelError(giant, /^(unet|vae_decoder): .*524288.*at most 4096/);
  // 8 VAE blocks mean 128 pixels per latent cell, but this decoder makes 8.
  const factor = modelFolder('tiny-sd-eps-int64');
  editJson(join(factor, 'vae_decoder', 'config.json'), (c) => {
    c.block_out_channels = [8, 8, 8, 8, 8, 8, 8, 8];
  });
  await expectModelError(
    factor,
    /^vae_decoder: block_out_channels has 8 entries \(128 pixels per latent cell\) but the decoder makes 8 pixels per latent cell/,
  );
  const vaeSize = modelFolder('tiny-sd-v-fp16');
  editJson(join(vaeSize, 'vae_decoder', 'config.json'), (c) => {
    c.sample_size = 8192;
  });
  await expectModelError(vaeSize, /^vae_decoder: config value sample_size = 8192 is not a whole number from 1 to 4096/);
  const channels = modelFolder('tiny-sd-eps-int64');
  editJson(join(channels, 'unet', 'config.json'), (c) => {
    c.block_out_channels = [320, 'wide'];
  });
  await expectModelError(channels, /^unet: config value block_out_channels must be a list of 1 to 8 whole numbers/);
});
