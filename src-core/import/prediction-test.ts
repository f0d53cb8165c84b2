// A1111's test for SD 2 checkpoints, which do not say whether they predict noise (512-base) or v
// (768-v): run the UNet once on a flat grey latent at t = 999 and look at how far the output falls
// below the input. A v-model's output there is far below it (mean(out - x) < -1); an eps-model's is not.
import * as ort from 'onnxruntime-node';
import { join } from 'node:path';
import { floatTensor, readFloats, type FloatType } from '../model/tensors.ts';

export async function looksLikeVPrediction(
  unetDir: string,
  contextWidth: number,
  float: FloatType,
): Promise<{ v: boolean; meanShift: number }> {
  const session = await ort.InferenceSession.create(join(unetDir, 'model.onnx'), { executionProviders: ['cpu'] });
  try {
    const x = new Float32Array(1 * 4 * 8 * 8).fill(0.5);
    const feeds = {
      sample: floatTensor(float, x, [1, 4, 8, 8]),
      timestep: new ort.Tensor('float32', new Float32Array([999]), [1]),
      encoder_hidden_states: floatTensor(float, new Float32Array(2 * contextWidth).fill(0.5), [1, 2, contextWidth]),
    };
    const out = readFloats((await session.run(feeds)).out_sample!, 'out_sample');
    let shift = 0;
    for (let i = 0; i < out.length; i++) shift += out[i]! - x[i]!;
    const meanShift = shift / out.length;
    return { v: meanShift < -1, meanShift };
  } finally {
    await session.release();
  }
}
