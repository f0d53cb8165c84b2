// Variants of the SDXL fixture for tests: its VAE decoder rebuilt in float16 (as an fp16 export holds it) from
// the fixture's diffusers weights, with the importer's graph builder.
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { writeModel } from '../../src-core/onnx/write-model.ts';
import { buildVaeDecoder, type VaeConfig } from '../../src-core/import/vae-graph.ts';
import { openSafetensors } from '../../src-core/import/safetensors.ts';

const VAE = join(import.meta.dirname, '..', 'fixtures', 'sdxl', 'diffusers', 'vae');

/** Replaces `dir`/vae_decoder/model.onnx with a float16 build of the fixture's VAE decoder (weights in model.onnx_data). */
export async function writeFp16VaeDecoder(dir: string): Promise<void> {
  const config = JSON.parse(readFileSync(join(VAE, 'config.json'), 'utf8')) as VaeConfig;
  const file = openSafetensors(join(VAE, 'diffusion_pytorch_model.safetensors'));
  try {
    for (const name of file.names())
      if (file.info(name).dtype !== 'F32') throw new Error(`${name} is ${file.info(name).dtype}, F32 expected`);
    rmSync(join(dir, 'vae_decoder', 'model.onnx'));
    await writeModel(buildVaeDecoder(file.source(), config, { float: 'float16' }), join(dir, 'vae_decoder'));
  } finally {
    file.close();
  }
}
