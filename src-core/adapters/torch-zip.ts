// Placeholder: .pt embeddings are read by a restricted reader of torch's zip format (not yet written).
import type { Embedding } from './embedding-file.ts';

export function readTorchEmbedding(path: string): Embedding['parts'] {
  throw new Error(`${path}: .pt embeddings are not read yet; convert it to .safetensors`);
}
