// `npm run bench -- --model DIR --compare-torch`: diffusers' own pipeline (bench/torch-pipeline.py) on the same
// diffusers folder the engine imported, with the same prompt, size, steps and guidance, run right after the engine's
// runs so both numbers come from one session on one machine (fp16 on a CUDA GPU, float32 on the CPU). PYTHON names
// the interpreter (default python3); it needs torch and diffusers (see the script for this project's own setup).
import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { appRoot } from '../app-root.ts';
import { sourceKind } from '../import/source.ts';

export interface TorchRun {
  torch: string;
  device: string;
  dtype: string;
  /** diffusers' pipeline class that ran (the folder's own). */
  pipeline: string;
  runs: number;
  /** Median whole image (PNG included) and UNet call, in ms. */
  wholeMs: number;
  unetCallMs: number;
  unetCallsPerImage: number;
}

export interface TorchSettings {
  prompt: string;
  width: number;
  height: number;
  steps: number;
  cfgScale: number;
  runs: number;
}

export function runTorchPipeline(model: string | undefined, settings: TorchSettings): TorchRun {
  if (!model || sourceKind(resolve(model)) !== 'diffusers')
    throw new Error('--compare-torch needs --model to name a diffusers folder: diffusers runs it, the engine its import');
  const { prompt, width, height, steps, cfgScale, runs } = settings;
  const args = [join(appRoot(), 'bench', 'torch-pipeline.py'), resolve(model), '--prompt', prompt];
  args.push('--width', String(width), '--height', String(height), '--steps', String(steps));
  args.push('--cfg', String(cfgScale), '--runs', String(runs));
  const python = process.env.PYTHON ?? 'python3';
  const result = spawnSync(python, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 20 });
  if (result.error) throw new Error(`could not run ${python} for --compare-torch: ${result.error.message}`);
  if (result.status !== 0) throw new Error(`diffusers' pipeline failed (${python} exited with ${result.status}); its errors are above`);
  const line = result.stdout.trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(line) as TorchRun;
  } catch {
    throw new Error(`diffusers' pipeline printed no result line (got: ${line.slice(0, 200)})`);
  }
}
