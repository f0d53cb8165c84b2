// Whether this machine can run the WebGPU provider: it needs a Vulkan loader and a GPU adapter (a real GPU, or a
// software one such as Mesa 25's lavapipe; Dawn refuses Mesa 22's). The CI machines have neither, so tests that
// run on WebGPU skip there, saying why; the tests of the CPU-only behaviour ask here which case they are in.
import * as ort from 'onnxruntime-node';
import { DeviceTensors } from '../../src-core/model/device-tensors.ts';
import { providerAvailability } from '../../src-core/model/providers.ts';
import { explainProviderFailure } from '../../src-core/model/session.ts';

let probed: Promise<string | false> | undefined;

/** false where WebGPU runs here, else why not: for `{ skip: await webgpuSkip() }`. */
export function webgpuSkip(): Promise<string | false> {
  probed ??= (async () => {
    const webgpu = providerAvailability().find((p) => p.name === 'webgpu');
    if (!webgpu?.available) return `no WebGPU here: ${webgpu?.reason ?? 'not in this onnxruntime build'}`;
    const uploads = DeviceTensors.for('webgpu')!;
    try {
      await uploads.upload(new ort.Tensor('float32', new Float32Array(4), [4]));
      return false;
    } catch (error) {
      return explainProviderFailure('webgpu', (error as Error).message);
    } finally {
      await uploads.dispose();
    }
  })();
  return probed;
}
