// Textual-inversion embeddings as A1111 saves and reads them: a .safetensors file with one tensor ("emb_params",
// or any single name, as diffusers saves them) of [vectors, width] or [width], or SDXL's pair "clip_l" / "clip_g";
// a .pt file (torch's zip format) read without running any of its code (see torch-zip.ts). The trigger word is
// the file name.
import { basename, extname } from 'node:path';
import { openSafetensors } from '../import/safetensors.ts';
import { readTorchEmbedding } from './torch-zip.ts';

export interface EmbeddingVectors {
  /** Rows of `width` values, one per token position the embedding takes. */
  vectors: Float32Array;
  count: number;
  width: number;
}

export interface Embedding {
  name: string;
  path: string;
  /** One set of vectors for SD 1/2 ('default'); SDXL files hold one per text encoder ('clip_l', 'clip_g'). */
  parts: Partial<Record<'default' | 'clip_l' | 'clip_g', EmbeddingVectors>>;
}

export class EmbeddingFileError extends Error {
  override name = 'EmbeddingFileError';
}

export function asVectors(values: Float32Array, shape: readonly number[], what: string): EmbeddingVectors {
  if (shape.length === 1 && shape[0] > 0) return { vectors: values, count: 1, width: shape[0] };
  if (shape.length === 2 && shape[0] > 0 && shape[1] > 0) return { vectors: values, count: shape[0], width: shape[1] };
  throw new EmbeddingFileError(`${what}: an embedding is [vectors, width], this tensor is [${shape.join(', ')}]`);
}

function readSafetensorsEmbedding(path: string): Embedding['parts'] {
  const file = openSafetensors(path);
  try {
    const names = file.names();
    if (names.includes('clip_l') && names.includes('clip_g')) {
      return {
        clip_l: asVectors(file.read('clip_l'), file.info('clip_l').shape, `${file.name} clip_l`),
        clip_g: asVectors(file.read('clip_g'), file.info('clip_g').shape, `${file.name} clip_g`),
      };
    }
    const name = names.includes('emb_params') ? 'emb_params' : names.length === 1 ? names[0] : undefined;
    if (name === undefined)
      throw new EmbeddingFileError(
        `${file.name}: not an embedding (expected one tensor, "emb_params", or "clip_l" and "clip_g"; ` +
          `found ${names.slice(0, 5).join(', ')})`,
      );
    return { default: asVectors(file.read(name), file.info(name).shape, `${file.name} ${name}`) };
  } finally {
    file.close();
  }
}

/** Reads an embedding file; the name is the file name without its extension. */
export function readEmbedding(path: string): Embedding {
  const name = basename(path, extname(path));
  const parts = extname(path).toLowerCase() === '.pt' ? readTorchEmbedding(path) : readSafetensorsEmbedding(path);
  for (const part of Object.values(parts)) {
    if (!part.vectors.every(Number.isFinite))
      throw new EmbeddingFileError(`${basename(path)}: the embedding holds values that are not finite numbers`);
  }
  return { name, path, parts };
}

/** Why an embedding is not used on a model whose text encoders take `widths` (one per encoder): its own widths. */
export function misfitNote(embedding: Embedding, widths: readonly number[]): string {
  const own = Object.entries(embedding.parts)
    .map(([part, v]) => (part === 'default' ? `${v.width}` : `${part} ${v.width}`))
    .join(', ');
  const model = widths.length === 1 ? `its text encoder takes ${widths[0]}` : `its text encoders take ${widths.join(' and ')}`;
  return (
    `the embedding "${embedding.name}" (${embedding.path}) is for another model: its vectors are ${own} wide, ` +
    `${model}; its name is read as text`
  );
}

/** Width of SD 1's text encoder (CLIP ViT-L) and SD 2's (OpenCLIP ViT-H), which an SD 1/2 embedding's vectors have. */
const FAMILY_BY_WIDTH: Readonly<Record<number, 'SD 1' | 'SD 2'>> = { 768: 'SD 1', 1024: 'SD 2' };

/**
 * The model family an embedding is for, from its vectors' widths (its files name none): SDXL for a clip_l and clip_g
 * pair, SD 1 for 768 wide, SD 2 for 1024; undefined for other widths or an unreadable file (using it says why).
 */
export function embeddingBaseModel(path: string): 'SD 1' | 'SD 2' | 'SDXL' | undefined {
  let parts: Embedding['parts'];
  try {
    if (extname(path).toLowerCase() === '.pt') parts = readTorchEmbedding(path);
    else {
      // The header's shapes are enough: the values are not read.
      const file = openSafetensors(path);
      try {
        const names = file.names();
        if (names.includes('clip_l') && names.includes('clip_g')) return 'SDXL';
        const name = names.includes('emb_params') ? 'emb_params' : names.length === 1 ? names[0] : undefined;
        const shape = name === undefined ? [] : file.info(name).shape;
        return shape.length === 1 || shape.length === 2 ? FAMILY_BY_WIDTH[shape[shape.length - 1]] : undefined;
      } finally {
        file.close();
      }
    }
  } catch {
    return undefined;
  }
  if (parts.clip_l && parts.clip_g) return 'SDXL';
  return parts.default ? FAMILY_BY_WIDTH[parts.default.width] : undefined;
}
