// The LoRA and embedding browser's part of the contract (issue 20): what is in the app's LoRA and embedding
// folders. No Node imports here (the renderer imports the contract).
import { z } from 'zod';

export const AdapterRequestSchemas = {
  'adapters.list': z.object({}).strict(),
} as const;

export interface AdapterEntry {
  /** The name a prompt uses: the file name without extension (<lora:NAME:1>, or the embedding's trigger word). */
  name: string;
  /** The file's path relative to its folder (subfolders included). */
  file: string;
  bytes: number;
  /** The base model family the file's metadata names ('SD 1', 'SD 2', 'SDXL'); absent where it does not say. */
  baseModel?: string;
  /** kohya's ss_output_name where it differs from the file name (A1111 finds the LoRA by it too). */
  alias?: string;
}

export interface AdapterResults {
  'adapters.list': { loras: AdapterEntry[]; embeddings: AdapterEntry[]; loraFolder: string; embeddingFolder: string };
}
