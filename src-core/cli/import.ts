// npm run import -- <checkpoint.safetensors | diffusers folder> --out <folder> [options]
// Converts a Stable Diffusion checkpoint or diffusers folder into a diffusers-ONNX folder, in TypeScript.
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { stringOptions } from './string-options.ts';
import { FAMILY_NAMES } from '../import/detect.ts';
import { ImportCancelled, importModel, type ImportProgress } from '../import/importer.ts';
import { ImportError } from '../import/weights.ts';

const HELP = `Usage: npm run import -- SOURCE --out FOLDER [options]

  SOURCE                     a single-file checkpoint (.safetensors: SD 1.x / 2.x in the LDM layout, SDXL base
                             in the SGM layout, as A1111 uses them) or a diffusers folder with safetensors weights
  --out FOLDER               where to write the diffusers-ONNX folder (must not exist yet)
  --prediction TYPE          epsilon | v_prediction (default: found as A1111 finds it; the output says which)
  --precision P              fp32 | fp16 (default: fp32; fp16 halves the size, for GPUs)
  --vae FILE                 a separate VAE .safetensors that replaces the checkpoint's (e.g. vae-ft-mse)
  --config FOLDER            a diffusers folder whose configs (and tokenizer) give the architecture, as
                             diffusers' from_single_file(config=) (default: inferred from the tensors)
  --attention FORM           mha | plain: attention as onnxruntime's MultiHeadAttention (default, faster) or
                             as MatMul/Softmax (for runtimes without com.microsoft ops)
  --cuda-graph WHEN          auto | yes | no: also write unet_cuda/, the UNet with onnxruntime's fused CUDA ops,
                             which runs instead of unet/ on the CUDA provider (default auto: when CUDA can
                             run here; yes for a folder to be used on another machine)
  --help                     show this help
`;

function bar(p: ImportProgress, started: number): string {
  const fraction = p.bytesTotal > 0 ? p.bytesDone / p.bytesTotal : 0;
  const width = 30;
  const filled = Math.round(fraction * width);
  const elapsed = (performance.now() - started) / 1000;
  const eta = fraction > 0.02 ? ` ETA ${Math.max(0, Math.round(elapsed / fraction - elapsed))} s` : '';
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(fraction * 100).toFixed(0).padStart(3)}% ${p.stage.padEnd(12)}${eta}`;
}

async function main(): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      allowPositionals: true,
      options: {
        ...stringOptions('out', 'prediction', 'precision', 'vae', 'config', 'attention', 'cuda-graph'),
        help: { type: 'boolean' },
      },
    });
  } catch (error) {
    process.stderr.write(`import failed: ${(error as Error).message}\n\n${HELP}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  if (positionals.length !== 1 || !values.out) {
    process.stderr.write(`import needs one SOURCE and --out FOLDER\n\n${HELP}`);
    return 2;
  }
  if (values.prediction !== undefined && values.prediction !== 'epsilon' && values.prediction !== 'v_prediction') {
    process.stderr.write(`--prediction must be epsilon or v_prediction (got "${values.prediction}")\n`);
    return 2;
  }
  if (values.precision !== undefined && values.precision !== 'fp32' && values.precision !== 'fp16') {
    process.stderr.write(`--precision must be fp32 or fp16 (got "${values.precision}")\n`);
    return 2;
  }
  if (values.attention !== undefined && values.attention !== 'mha' && values.attention !== 'plain') {
    process.stderr.write(`--attention must be mha or plain (got "${values.attention}")\n`);
    return 2;
  }
  const cudaGraph = values['cuda-graph'] ?? 'auto';
  if (cudaGraph !== 'auto' && cudaGraph !== 'yes' && cudaGraph !== 'no') {
    process.stderr.write(`--cuda-graph must be auto, yes or no (got "${cudaGraph}")\n`);
    return 2;
  }
  const controller = new AbortController();
  process.once('SIGINT', () => controller.abort());
  const started = performance.now();
  const tty = process.stderr.isTTY;
  let lastLine = 0;
  try {
    const result = await importModel(positionals[0]!, {
      out: resolve(values.out),
      prediction: values.prediction as 'epsilon' | 'v_prediction' | undefined,
      precision: values.precision as 'fp32' | 'fp16' | undefined,
      vae: values.vae,
      config: values.config,
      attention: values.attention as 'mha' | 'plain' | undefined,
      cudaGraph: cudaGraph === 'auto' ? undefined : cudaGraph === 'yes',
      signal: controller.signal,
      onProgress: (p) => {
        const now = performance.now();
        if (!tty && now - lastLine < 2000 && p.stage !== 'finishing') return;
        lastLine = now;
        process.stderr.write(tty ? `\r${bar(p, started)}` : `${bar(p, started)}\n`);
      },
    });
    if (tty) process.stderr.write('\n');
    const family = FAMILY_NAMES[result.family];
    process.stdout.write(`${result.dir}\n  ${family}, ${result.prediction} (${result.predictionSource}), ${result.precision}, `);
    process.stdout.write(`${(result.bytes / 1e6).toFixed(1)} MB of weights, ${result.seconds.toFixed(1)} s\n`);
    if (result.cudaGraph) process.stdout.write('  with unet_cuda/, the UNet graph the CUDA provider runs\n');
    for (const note of result.notes) process.stdout.write(`  note: ${note}\n`);
    return 0;
  } catch (error) {
    if (tty) process.stderr.write('\n');
    if (error instanceof ImportCancelled) {
      process.stderr.write('import cancelled; nothing was written\n');
      return 130;
    }
    // A user's mistake reads as one line; the stack is for developers (DEBUG=1).
    process.stderr.write(`import failed: ${(error as Error).message}\n`);
    if (process.env.DEBUG && !(error instanceof ImportError)) process.stderr.write(`${(error as Error).stack}\n`);
    return 1;
  }
}

process.exitCode = await main();
