// What one step of a sampling run kept on the GPU costs outside the UNet on WebGPU (pipeline/device-latents.ts),
// against what the host loop moves instead: a run of the step graph for a 512x512 SD image (latent 4x64x64, guided,
// float32) with every output left on the GPU, the same with one output read back (the wait for the GPU that a check
// makes), an Identity run from GPU to GPU (a run's own cost), and a 4x64x64 latent read back and sent up. Medians of
// ROUNDS runs after 5. On a software Vulkan (lavapipe) these are the CPU's; the device run takes them on a card.
//   node --import tsx reports/gpu-bench/webgpu-step-costs.ts [ROUNDS]
import * as ort from 'onnxruntime-node';
import { DeviceTensors, identityModel } from '../../src-core/model/device-tensors.ts';
import { stepModel, STEP_COEFFICIENTS } from '../../src-core/model/step-graph.ts';
import { median } from '../../src-core/experiments/stats.ts';

const rounds = Number(process.argv[2] ?? 30);
const tensors = DeviceTensors.for('webgpu')!;
const dims = [1, 4, 64, 64],
  n = 4 * 64 * 64;
const terms = { previous: false, noise: false };
const time = async (label: string, run: () => Promise<unknown>) => {
  for (let i = 0; i < 5; i++) await run();
  const ms: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const t0 = performance.now();
    await run();
    ms.push(performance.now() - t0);
  }
  console.log(`${label.padEnd(44)} ${median(ms).toFixed(3)} ms`);
};
try {
  const x = await tensors.upload(new ort.Tensor('float32', new Float32Array(n).fill(0.5), dims));
  const modelOut = await tensors.upload(new ort.Tensor('float32', new Float32Array(2 * n).fill(0.1), [2, 4, 64, 64]));
  const feeds = {
    x,
    model_out: modelOut,
    coefficients: new ort.Tensor('float32', Float32Array.from(STEP_COEFFICIENTS, () => 0.5), [STEP_COEFFICIENTS.length]),
    checked: new ort.Tensor('float32', new Float32Array(1), [1]),
  };
  const onGpu = { x_next: 'gpu-buffer', denoised: 'gpu-buffer', sample: 'gpu-buffer', checked_next: 'gpu-buffer' } as const;
  const stepOnGpu = await tensors.session('step-gpu', () => stepModel('float32', true, terms), onGpu);
  const stepChecked = await tensors.session('step-checked', () => stepModel('float32', true, terms), { ...onGpu, checked_next: 'cpu' });
  const identity = await tensors.session('identity', () => identityModel('float32', 4), { y: 'gpu-buffer' });
  const disposeAll = (out: ort.InferenceSession.ReturnType) => {
    for (const t of Object.values(out)) if (t.location === 'gpu-buffer') t.dispose();
  };
  await time('step graph, every output on the GPU', async () => disposeAll(await stepOnGpu.run(feeds)));
  await time('step graph, its check read back (a wait)', async () => disposeAll(await stepChecked.run(feeds)));
  await time('Identity, GPU to GPU, 4x64x64', async () => disposeAll(await identity.run({ x })));
  await time('4x64x64 read back', () => tensors.download(x));
  await time('4x64x64 sent up', async () => tensors.free(await tensors.upload(new ort.Tensor('float32', new Float32Array(n), dims))));
  tensors.free(x);
  tensors.free(modelOut);
} finally {
  await tensors.dispose();
}
