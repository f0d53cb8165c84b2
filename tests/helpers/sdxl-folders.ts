// Variants of the SDXL fixture for tests: its VAE decoder rebuilt in float16 (as an fp16 export holds it) from
// the fixture's diffusers weights, with the importer's graph builder.
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { writeModel } from '../../src-core/onnx/graph.ts';
import { buildVaeDecoder, type VaeConfig } from '../../src-core/import/vae-graph.ts';
import { arrayWeight, weightMap, type WeightRef, type WeightSource } from '../../src-core/import/weights.ts';

const VAE = join(import.meta.dirname, '..', 'fixtures', 'sdxl', 'diffusers', 'vae');

/** The F32 tensors of a small safetensors file. */
function readF32Safetensors(path: string): WeightSource {
  const bytes = readFileSync(path),
    headerLength = Number(bytes.readBigUInt64LE(0));
  const header = JSON.parse(bytes.subarray(8, 8 + headerLength).toString('utf8')) as Record<
    string,
    { dtype: string; shape: number[]; data_offsets: [number, number] }
  >;
  const entries = new Map<string, WeightRef>();
  for (const [name, info] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    if (info.dtype !== 'F32') throw new Error(`${name} is ${info.dtype}, F32 expected`);
    const start = 8 + headerLength + info.data_offsets[0],
      end = 8 + headerLength + info.data_offsets[1];
    entries.set(name, arrayWeight(info.shape, new Float32Array(bytes.buffer.slice(bytes.byteOffset + start, bytes.byteOffset + end))));
  }
  return weightMap(entries);
}

/** Replaces `dir`/vae_decoder/model.onnx with a float16 build of the fixture's VAE decoder (weights in model.onnx_data). */
export async function writeFp16VaeDecoder(dir: string): Promise<void> {
  const config = JSON.parse(readFileSync(join(VAE, 'config.json'), 'utf8')) as VaeConfig;
  const weights = readF32Safetensors(join(VAE, 'diffusion_pytorch_model.safetensors'));
  rmSync(join(dir, 'vae_decoder', 'model.onnx'));
  await writeModel(buildVaeDecoder(weights, config, { float: 'float16' }), join(dir, 'vae_decoder'));
}
