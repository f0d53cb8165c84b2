// The UNet's per-run inputs on the GPU for WebGPU (device-tensors.ts, ResidentInputs): the same images as with host
// inputs, one upload per run, nothing held after it. The WebGPU tests need an adapter (skipped on the CI machines,
// which have none; a machine with Mesa 25's lavapipe runs them on the CPU's software Vulkan).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as ort from 'onnxruntime-node';
import { DeviceTensors, identityModel } from './device-tensors.ts';
import type { DType } from '../onnx/graph.ts';
import { loadModel } from './model.ts';
import { DEFAULT_MODEL_DIR } from './default-model.ts';
import { generate } from '../pipeline/txt2img.ts';
import { ResidentInputs } from '../pipeline/unet-feeds.ts';
import { webgpuSkip } from '../../tests/helpers/webgpu.ts';

const skip = await webgpuSkip();
const REQUEST = { prompt: 'a red circle on a blue background', seed: 11, steps: 2, sampler: 'euler', cfgScale: 7, count: 2 };

/** A device tensor's values, read back through an Identity session of the test's own (the engine never reads them). */
async function readBack(tensor: ort.Tensor): Promise<ort.Tensor['data']> {
  // The uploads' own graph, with its output left on the CPU.
  const session = await ort.InferenceSession.create(identityModel(tensor.type as DType, tensor.dims.length), {
    executionProviders: ['webgpu'],
  });
  try {
    return (await session.run({ x: tensor })).y.data;
  } finally {
    await session.release();
  }
}

test('only a provider that keeps tensors on its device gets uploads', () => {
  assert.ok(DeviceTensors.for('webgpu'));
  for (const provider of ['cpu', 'cuda', 'dml', 'coreml'] as const) assert.equal(DeviceTensors.for(provider), undefined);
});

test('inputs whose upload fails are fed from the host, from then on', async () => {
  const uploads = DeviceTensors.for('webgpu')!;
  await uploads.dispose(); // an unloaded model's uploads refuse every tensor (before touching a device)
  const perRun = new ResidentInputs(uploads, ['encoder_hidden_states']);
  assert.equal(perRun.onDevice, true);
  const feeds = { encoder_hidden_states: new ort.Tensor('float32', new Float32Array(6), [1, 2, 3]) };
  assert.equal(await perRun.of(feeds), feeds);
  assert.equal(perRun.onDevice, false);
  assert.equal(await perRun.of(feeds), feeds);
  assert.equal(new ResidentInputs(undefined, ['encoder_hidden_states']).onDevice, undefined);
});

test('a CPU model keeps nothing on a device', async () => {
  const model = await loadModel(DEFAULT_MODEL_DIR, { provider: 'cpu' });
  try {
    assert.equal(model.deviceTensors, undefined);
    const result = await generate(model, { ...REQUEST, count: 1 }, {});
    assert.equal(result.timings.unetInputsOnDevice, undefined);
  } finally {
    await model.dispose();
  }
});

test('WebGPU: an upload is the same tensor on the device, freed once', { skip }, async () => {
  const uploads = DeviceTensors.for('webgpu')!;
  try {
    const floats = Float32Array.from({ length: 2 * 3 * 5 }, (_, i) => Math.sin(i) * 1e3);
    const halves = Uint16Array.from({ length: 24 }, (_, i) => (i * 2741) & 0x7bff);
    const onDevice = await uploads.upload(new ort.Tensor('float32', floats, [2, 3, 5]));
    const halvesOnDevice = await uploads.upload(new ort.Tensor('float16', halves, [2, 12]));
    assert.equal(onDevice.location, 'gpu-buffer');
    assert.deepEqual(onDevice.dims, [2, 3, 5]);
    assert.equal(uploads.held, 2);
    assert.deepEqual(await readBack(onDevice), floats);
    assert.deepEqual(await readBack(halvesOnDevice), halves);
    uploads.free(onDevice);
    uploads.free(onDevice); // a second free does nothing
    assert.equal(uploads.held, 1);
    assert.equal(onDevice.location, 'none');
  } finally {
    await uploads.dispose(); // frees the half tensor before the sessions close (the other order crashes the process)
  }
  assert.equal(uploads.held, 0);
});

test('WebGPU: prompt states fed from the device give the same PNGs, uploaded once per job and freed after it', { skip }, async () => {
  const pngs: Buffer[][] = [];
  for (const deviceInputs of [true, false]) {
    // The latent on the host in both runs (the device run's float32 latent is checked in pipeline/device-latents.test.ts).
    const model = await loadModel(DEFAULT_MODEL_DIR, { provider: 'webgpu', deviceInputs, deviceLatents: false });
    try {
      assert.equal(model.provider, 'webgpu');
      let uploads = 0;
      const uploader = model.deviceTensors;
      if (uploader) {
        const upload = uploader.upload.bind(uploader);
        uploader.upload = (tensor) => (uploads++, upload(tensor));
      }
      const result = await generate(model, REQUEST, {});
      assert.equal(result.timings.unetInputsOnDevice, deviceInputs ? true : undefined);
      // Two images, two UNet calls each: the states go up once (the text encoder's own output, float32 here).
      assert.equal(result.timings.unetCalls, 4);
      assert.equal(uploads, deviceInputs ? 1 : 0);
      assert.equal(uploader?.held ?? 0, 0);
      pngs.push(result.images.map((image) => image.png));
    } finally {
      await model.dispose();
    }
  }
  assert.equal(pngs[0].length, 2);
  pngs[0].forEach((png, i) => assert.ok(png.equals(pngs[1][i]), `image ${i} differs`));
});

test('WebGPU: unloading a model that still holds an upload frees it first', { skip }, async () => {
  const model = await loadModel(DEFAULT_MODEL_DIR, { provider: 'webgpu' });
  const held = await model.deviceTensors!.upload(new ort.Tensor('float32', new Float32Array(8), [8]));
  await model.dispose();
  assert.equal(held.location, 'none');
  await assert.rejects(model.deviceTensors!.upload(new ort.Tensor('float32', new Float32Array(8), [8])), /unloaded/);
});
