// Sampling runs with the latent on the GPU (WebGPU: device-latents.ts, guidance/device-run.ts) against the same
// runs with the latent on the host, with the embedded model: the same images to 1/255 (float32 on the device,
// float64 on the host) for every sampler, nothing left on the device after a job or a cancelled one; a UNet call
// outside such a run reads its output back. The WebGPU tests need an adapter (skipped on the CI machines, which
// have none; a machine with Mesa 25's lavapipe runs them on the CPU's software Vulkan).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decode } from 'fast-png';
import * as ort from 'onnxruntime-node';
import { DeviceTensors } from '../model/device-tensors.ts';
import { DeviceLatentRun } from './device-latents.ts';
import { newTimings, unetCall } from './components.ts';
import { loadModel, type StableDiffusionModel } from '../model/model.ts';
import { DEFAULT_MODEL_DIR } from '../model/default-model.ts';
import { generate, type GenerateHooks, type GenerateProgress } from './txt2img.ts';
import type { GenerateRequest } from '../contract/generate.ts';
import { webgpuSkip } from '../../tests/helpers/webgpu.ts';
import { assertSdxlImages } from '../../tests/helpers/sdxl-parity.ts';
import { join } from 'node:path';
import { modelFolder } from '../../tests/helpers/model-folders.ts';

const skip = await webgpuSkip();
const REQUEST = { prompt: 'a red circle on a blue background', seed: 11, steps: 3, cfgScale: 7, batchSize: 2 };

function largestDifference(a: Buffer, b: Buffer): number {
  const p = decode(a),
    q = decode(b);
  assert.deepEqual([p.width, p.height], [q.width, q.height]);
  let max = 0;
  for (let i = 0; i < p.data.length; i++) max = Math.max(max, Math.abs(p.data[i]! - q.data[i]!));
  return max;
}

async function withModel<T>(deviceLatents: boolean, work: (model: StableDiffusionModel) => Promise<T>): Promise<T> {
  const model = await loadModel(DEFAULT_MODEL_DIR, { provider: 'webgpu', deviceLatents });
  try {
    assert.equal(model.provider, 'webgpu');
    assert.equal(model.latentsOnDevice, deviceLatents);
    return await work(model);
  } finally {
    await model.dispose();
  }
}

/** The job's PNGs, how many steps ran the step graph, and how many device tensors were left held after it. */
async function run(model: StableDiffusionModel, request: Partial<GenerateRequest>, hooks: GenerateHooks = {}) {
  const tensors = model.deviceTensors!;
  const session = tensors.session.bind(tensors);
  let deviceSteps = 0;
  tensors.session = (key, ...rest) => (key.startsWith('latent-step/') && deviceSteps++, session(key, ...rest));
  const result = await generate(model, { ...REQUEST, ...request } as GenerateRequest, hooks);
  return { pngs: result.images.map((image) => image.png), result, held: tensors.held, deviceSteps };
}

// Restart with a restart segment: a jump back up, two Heun steps down again.
const SAMPLERS: Array<Partial<GenerateRequest>> = [
  { sampler: 'euler' },
  { sampler: 'euler_ancestral' },
  { sampler: 'dpmpp_2m' },
  { sampler: 'heun' },
  { sampler: 'restart', restart: { segments: [[3, 1, 1, 5]] } },
];
for (const request of SAMPLERS) {
  test(`WebGPU, ${request.sampler}: the latent on the GPU gives the host's images to 1/255, nothing held after`, { skip }, async () => {
    const device = await withModel(true, (model) => run(model, request));
    const host = await withModel(false, (model) => run(model, request));
    assert.equal(device.pngs.length, 2);
    assert.equal(device.held, 0);
    assert.equal(device.result.timings.unetCalls, host.result.timings.unetCalls);
    // One step graph per evaluation (one batch).
    assert.equal(device.deviceSteps, device.result.evaluations);
    assert.equal(host.deviceSteps, 0);
    device.pngs.forEach((png, i) => {
      const difference = largestDifference(png, host.pngs[i]);
      assert.ok(difference <= 1, `image ${i}: ${difference}/255`);
    });
  });
}

test(
  'WebGPU: a UNet call outside a run on the GPU reads its output back, as a model that keeps none there gives it',
  { skip },
  async () => {
    const outputs: Float32Array[] = [];
    for (const deviceLatents of [true, false]) {
      await withModel(deviceLatents, async (model) => {
        const call = unetCall(model, 16, 16, newTimings());
        const { latentChannels: C, textHidden, tokens } = model.info;
        const input = {
          sample: Float32Array.from({ length: 2 * C * 16 * 16 }, (_, i) => Math.sin(i)),
          batch: 2,
          timestep: 500,
          encoderHiddenStates: Float32Array.from({ length: 2 * tokens * textHidden }, (_, i) => Math.cos(i) / 4),
        };
        outputs.push(Float32Array.from((await call(input)) as Float32Array));
        call.release?.();
        assert.equal(model.deviceTensors!.held, 0);
      });
    }
    assert.deepEqual(outputs[0], outputs[1]);
  },
);

test('WebGPU: hires fix, both passes on the GPU (the second from the upscaled latent), as on the host', { skip }, async () => {
  const request = { sampler: 'dpmpp_2m', batchSize: 1, hires: { scale: 1.5, steps: 2, upscaler: 'latent', sampler: 'euler' } } as const;
  const device = await withModel(true, (model) => run(model, request));
  const host = await withModel(false, (model) => run(model, request));
  assert.equal(device.deviceSteps, 3 + 2);
  assert.equal(decode(device.pngs[0]).width, 96);
  assert.ok(largestDifference(device.pngs[0], host.pngs[0]) <= 1, `${largestDifference(device.pngs[0], host.pngs[0])}/255`);
  assert.equal(device.held, 0);
});

test('WebGPU: previews from a run on the GPU at its checks, the latents read back only when one is due', { skip }, async () => {
  await withModel(true, async (model) => {
    const tensors = model.deviceTensors!;
    let downloads = 0;
    const download = tensors.download.bind(tensors);
    tensors.download = (t) => (downloads++, download(t));
    const previews: number[] = [];
    const { held } = await run(
      model,
      { sampler: 'euler', steps: 4, batchSize: 1 },
      { previews: true, previewIntervalMs: 0, onProgress: (p) => p.preview && previews.push(p.step!) },
    );
    // At the checks (the first step and the fourth): x and D, after the running check (one value); the final latent.
    assert.deepEqual(previews, [1, 4]);
    assert.equal(downloads, 2 * (2 + 1) + 1);
    downloads = 0;
    previews.length = 0;
    const hooks = { previews: true, previewIntervalMs: 60_000, onProgress: (p: GenerateProgress) => p.preview && previews.push(p.step!) };
    await run(model, { sampler: 'euler', steps: 4, batchSize: 1 }, hooks);
    assert.deepEqual(previews, [1], 'the first step only, within a minute');
    // The check at the first step (with its preview) and at the last, which is also the fourth.
    assert.equal(downloads, 2 + 2 + 1);
    assert.equal(held, 0);
  });
});

test('WebGPU: a job cancelled during a run on the GPU leaves nothing held', { skip }, async () => {
  await withModel(true, async (model) => {
    const controller = new AbortController();
    await assert.rejects(
      generate(model, { ...REQUEST, sampler: 'euler', steps: 6 } as GenerateRequest, {
        signal: controller.signal,
        onProgress: (p) => p.evaluation === 2 && controller.abort(),
      }),
      { name: 'SamplingCancelled' },
    );
    assert.equal(model.deviceTensors!.held, 0);
  });
});

test('WebGPU: the running check finds the first step whose estimate is not finite', { skip }, async () => {
  const tensors = DeviceTensors.for('webgpu')!;
  try {
    const latent: [number, number, number] = [2, 3, 3];
    let call = 0;
    // A UNet whose output holds an infinity in its conditional half at its third call (step 2) only: D = -Infinity there.
    const runUNet = async () => {
      const out = new Float32Array(2 * 2 * 9).fill(0.25);
      if (call++ === 2) out[18 + 7] = Infinity;
      return tensors.upload(new ort.Tensor('float32', out, [2, ...latent]));
    };
    const run = new DeviceLatentRun({ tensors, unetFloat: 'float32', guided: true, rows: 2, latent, runUNet });
    const coefficients = { scale: 3, cSkip: 1, cOut: -0.5, x: 0.9, point: 0, denoised: 0.1, previous: 0, noise: 0, cInNext: 0.7 };
    const input = { sample: new Float32Array(0), batch: 2, timestep: 500, encoderHiddenStates: new Float32Array(0) };
    await run.start(new Float64Array(18).fill(1), 0.5);
    await run.step(input, coefficients);
    assert.equal(await run.firstNotFinite(), undefined);
    for (let i = 1; i < 5; i++) await run.step(input, coefficients);
    assert.deepEqual(await run.firstNotFinite(), { step: 2, value: -Infinity });
    const x = await run.read('x');
    assert.ok(x.some((v) => !Number.isFinite(v)));
    run.release();
    assert.equal(tensors.held, 0);
  } finally {
    await tensors.dispose();
  }
});

test("WebGPU, SDXL: with the latent on the GPU, StableDiffusionXLPipeline's images to 1/255", { skip }, async (t) => {
  // The tiny SDXL pipeline of tests/fixtures/sdxl (its pooled vector and time_ids are the UNet's inputs too).
  const dir = join(import.meta.dirname, '..', '..', 'tests', 'fixtures', 'sdxl', 'onnx');
  await assertSdxlImages(t, dir, 'a red circle on a blue background', 'sdxl', 16, { provider: 'webgpu' });
});

test("WebGPU, an fp16 v-prediction UNet: the latent on the GPU gives the CPU provider's images to 1/255", { skip }, async () => {
  const dir = modelFolder('tiny-sd-v-fp16');
  const request = { ...REQUEST, sampler: 'euler_ancestral' } as GenerateRequest;
  const onGpu = await loadModel(dir, { provider: 'webgpu' });
  let gpu: Buffer[];
  try {
    assert.equal(onGpu.info.unetFloat, 'float16');
    assert.equal(onGpu.info.prediction, 'v_prediction');
    const result = await generate(onGpu, request, {});
    assert.equal(result.timings.latentOnDevice, true);
    gpu = result.images.map((image) => image.png);
  } finally {
    await onGpu.dispose();
  }
  const onCpu = await loadModel(dir, { provider: 'cpu' });
  try {
    const cpu = (await generate(onCpu, request, {})).images.map((image) => image.png);
    gpu.forEach((png, i) => assert.ok(largestDifference(png, cpu[i]) <= 1, `image ${i}: ${largestDifference(png, cpu[i])}/255`));
  } finally {
    await onCpu.dispose();
  }
});
