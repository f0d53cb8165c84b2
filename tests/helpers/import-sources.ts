// Checkpoints for the app's import tests: a medium SD 1-layout one whose UNet takes a while to write
// (so a cancel lands in the middle of it), and headers of architectures that must be refused by name
// (SDXL inpainting, SD 1 inpainting, SD 3, FLUX: their tell-tale keys with zero-filled data).
import { readdirSync } from 'node:fs';
import { HASH_MEMO_FILE } from '../../src-core/import/hash-memo.ts';
import { CLIP_L_TEXT, ldmEntries, sd1Dims } from './ldm-checkpoints.ts';
import { writeSafetensors, type TestTensor } from './safetensors-writer.ts';

/** About 70 MB in fp16 (zeros): big enough to take seconds to import, small enough to write quickly. */
export const MEDIUM_SD1 = sd1Dims([96, 192, 192, 192], 64, { ...CLIP_L_TEXT, hidden: 64, layers: 2, ff: 256 }, [32, 64, 64, 64]);

function zeros(shape: number[], bytesPerValue: number): TestTensor {
  return { dtype: bytesPerValue === 2 ? 'F16' : 'F32', shape, bytes: new Uint8Array(shape.reduce((a, b) => a * b, 1) * bytesPerValue) };
}

export function mediumCheckpoint(path: string): string {
  const tensors: Record<string, TestTensor> = {};
  for (const entry of ldmEntries(MEDIUM_SD1)) tensors[entry.key] = zeros(entry.shape, 2);
  return writeSafetensors(path, tensors);
}

/** Architectures the importer refuses by name, each as the few keys that give it away. */
export type Unsupported = 'sdxl-inpainting' | 'sd1-inpainting' | 'sd3' | 'flux';

/** A checkpoint header of an architecture that cannot be imported yet (tiny zero-filled tensors). */
export function unsupportedCheckpoint(path: string, kind: Unsupported): string {
  const unetIn = (channels: number) => ({ 'model.diffusion_model.input_blocks.0.0.weight': zeros([8, channels, 3, 3], 2) });
  const tensors: Record<Unsupported, Record<string, TestTensor>> = {
    // SDXL's second text encoder lives under conditioner.embedders.1; 9 UNet inputs make it an inpainting model.
    'sdxl-inpainting': { ...unetIn(9), 'conditioner.embedders.1.model.token_embedding.weight': zeros([10, 8], 2) },
    'sd1-inpainting': { ...unetIn(9), 'cond_stage_model.transformer.text_model.embeddings.token_embedding.weight': zeros([10, 8], 2) },
    sd3: { 'model.diffusion_model.joint_blocks.0.x_block.attn.qkv.weight': zeros([24, 8], 2) },
    flux: { 'double_blocks.0.img_attn.qkv.weight': zeros([24, 8], 2) },
  };
  return writeSafetensors(path, { ...tensors[kind], 'first_stage_model.decoder.conv_in.weight': zeros([8, 4, 3, 3], 2) });
}

/** A model cache's imports and leftovers (its memo of source hashes stays there on purpose). */
export function cacheEntries(cacheDir: string): string[] {
  return readdirSync(cacheDir).filter((name) => name !== HASH_MEMO_FILE);
}
