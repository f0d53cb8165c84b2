// Which of a model folder's UNet graphs a provider runs: unet/ (portable, standard ops) everywhere, or the
// importer's unet_cuda/ (NHWC with onnxruntime's fused CUDA-only ops) when the CUDA provider runs the model.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { ExecutionProvider } from './session.ts';

/** The folder of the importer's CUDA graph, beside unet/ (same inputs, outputs and config). */
export const UNET_CUDA_FOLDER = 'unet_cuda';

export type UNetGraph = 'portable' | 'cuda';

/** The UNet graph `provider` should run from `dir`: the CUDA one only on CUDA and when the folder has it. */
export function unetGraphFor(dir: string, provider: ExecutionProvider): UNetGraph {
  return provider === 'cuda' && existsSync(join(dir, UNET_CUDA_FOLDER, 'model.onnx')) ? 'cuda' : 'portable';
}

export function unetFolderOf(graph: UNetGraph): string {
  return graph === 'cuda' ? UNET_CUDA_FOLDER : 'unet';
}
