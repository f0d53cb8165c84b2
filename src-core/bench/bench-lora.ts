// `npm run bench -- --lora RANK`: the measured runs' prompt uses a random kohya LoRA of that rank on every attention,
// feed-forward and projection layer of the model's UNet (lora-fixtures.ts), through the engine's own adapters, as a
// prompt with <lora:NAME:1> does in the app. On the CUDA provider the change goes into the importer's fused graph
// (adapters/cuda-graph-deltas.ts) or, where it cannot, into the portable one with a note: the bench prints the run's
// notes, so the two can be told apart. The UNet of a LoRA set is its own session, outside the bench's watch of the
// UNet calls (unet-calls.ts): no stand-in and no JIT warm-up with a LoRA.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { attachAdapters } from '../adapters/apply.ts';
import type { StableDiffusionModel } from '../model/model.ts';
import { loraLayersOf, writeRandomLora } from './lora-fixtures.ts';

export interface BenchLora {
  /** The prompt's tag for it. */
  tag: string;
  layers: number;
  rank: number;
  /** Where the LoRA file and the adapted graphs made for it are. */
  folder: string;
  /** Removes the LoRA file and the adapted graphs written for it. */
  remove(): void;
}

export function attachRandomLora(model: StableDiffusionModel, modelDir: string, rank: number): BenchLora {
  if (!Number.isInteger(rank) || rank < 1) throw new Error(`--lora takes a rank, a whole number from 1 (got ${rank})`);
  const root = mkdtempSync(join(tmpdir(), 'bench-lora-'));
  const { layers } = loraLayersOf(join(modelDir, 'unet', 'model.onnx'));
  if (layers.length === 0) throw new Error(`${modelDir}'s UNet has no attention layers a LoRA could change`);
  const base = model.info.family === 'sdxl' ? 'sdxl_base_v1-0' : 'sd_v1';
  writeRandomLora(join(root, 'loras', 'bench-random.safetensors'), layers, rank, rank / 2, 1, base);
  attachAdapters(model, { loraDirs: [join(root, 'loras')], embeddingDirs: [], cacheRoot: join(root, 'adapted') });
  return {
    tag: '<lora:bench-random:1>',
    layers: layers.length,
    rank,
    folder: root,
    remove: () => rmSync(root, { recursive: true, force: true }),
  };
}
