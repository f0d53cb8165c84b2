// npm run bench:import -- [--runs N] [--precision fp32|fp16] [--model sd15|sdxl] [--cuda-graph yes|no] [--keep DIR]
// Time and peak memory of importing an SD 1.5-sized (or SDXL base-sized) single-file checkpoint. The checkpoint
// (fp16, as most downloaded files are: about 2.1 GB, SDXL 6.9 GB) is written here with random values, from the
// tensor list of a real file (bench/import/sd15-ldm-shapes.json, sdxl-sgm-shapes.json, made with diffusers'
// classes and conversion scripts), so nothing large is committed. Each import runs in a child process so that
// its peak RSS is its own. --keep DIR keeps the last import there (an SDXL-shaped ONNX folder for GPU timings).
// --cuda-graph yes|no writes the UNet's CUDA graph (unet_cuda/) or not, as `npm run import` does (default: the
// importer's choice, yes where onnxruntime can use CUDA).
import { spawnSync } from 'node:child_process';
import { closeSync, cpSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { stringOptions } from '../cli/string-options.ts';
import { fileURLToPath } from 'node:url';
import { appRoot } from '../app-root.ts';
import { importModel } from '../import/importer.ts';
import { median } from '../experiments/stats.ts';
import { safetensorsHeader } from '../import/safetensors.ts';

type Entry = [number[], string];
const DTYPES: Record<string, { name: string; bytes: number }> = {
  float32: { name: 'F32', bytes: 4 },
  float16: { name: 'F16', bytes: 2 },
  int64: { name: 'I64', bytes: 8 },
};

/** Writes a safetensors file: float tensors stored as fp16 with small random values (a fixed LCG), others as zeros. */
function writeCheckpoint(file: string, model: 'sd15' | 'sdxl'): number {
  const path = join(appRoot(), 'bench', 'import', model === 'sdxl' ? 'sdxl-sgm-shapes.json' : 'sd15-ldm-shapes.json');
  const parsed = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  // The SDXL list also holds the configs it was made from; the tensors are under "tensors".
  const shapes = (model === 'sdxl' ? parsed.tensors : parsed) as Record<string, Entry>;
  const header: Record<string, unknown> = {};
  let offset = 0;
  const names = Object.keys(shapes).sort();
  for (const name of names) {
    const [shape, dtype] = shapes[name]!;
    const type = dtype === 'float32' ? DTYPES.float16! : DTYPES[dtype]!;
    const bytes = shape.reduce((a, b) => a * b, 1) * type.bytes;
    header[name] = { dtype: type.name, shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  const fd = openSync(file, 'w');
  try {
    writeSync(fd, safetensorsHeader(header));
    const chunk = new Uint16Array(1 << 20);
    let state = 12345;
    for (let i = 0; i < chunk.length; i++) {
      state = (Math.imul(state, 1103515245) + 12345) >>> 0;
      // fp16 values of magnitude up to about 0.06, either sign: exponent 5..10, random mantissa
      chunk[i] = ((state >>> 31) << 15) | ((5 + ((state >>> 16) % 6)) << 10) | (state & 0x3ff);
    }
    const bytes = Buffer.from(chunk.buffer);
    for (let left = offset; left > 0; left -= bytes.length) writeSync(fd, bytes, 0, Math.min(left, bytes.length));
  } finally {
    closeSync(fd);
  }
  return statSync(file).size;
}

async function child(source: string, out: string, precision: 'fp32' | 'fp16', cudaGraph: boolean | undefined): Promise<void> {
  const result = await importModel(source, { out, precision, prediction: 'epsilon', cudaGraph });
  const unetBytes = ['model.onnx', 'model.onnx_data'].reduce((sum, f) => sum + statSync(join(out, 'unet', f)).size, 0);
  process.stdout.write(
    JSON.stringify({
      seconds: result.seconds,
      maxRssMB: process.resourceUsage().maxRSS / 1024,
      unetMB: unetBytes / 1e6,
      weightsMB: result.bytes / 1e6,
    }) + '\n',
  );
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      ...stringOptions('runs', 'precision', 'model', 'keep', 'cuda-graph'),
      child: { type: 'string', multiple: true },
    },
  });
  const precision = values.precision === 'fp16' ? 'fp16' : 'fp32';
  const cudaGraphArg = values['cuda-graph'];
  if (cudaGraphArg !== undefined && cudaGraphArg !== 'yes' && cudaGraphArg !== 'no') throw new Error('--cuda-graph takes yes or no');
  const cudaGraph = cudaGraphArg === undefined ? undefined : cudaGraphArg === 'yes';
  if (values.child) return child(values.child[0]!, values.child[1]!, precision, cudaGraph);
  const model = values.model === 'sdxl' ? 'sdxl' : 'sd15';
  const runs = Number(values.runs ?? 3);
  const dir = mkdtempSync(join(tmpdir(), 'import-bench-'));
  try {
    const source = join(dir, `${model}-random.safetensors`);
    let t = performance.now();
    const size = writeCheckpoint(source, model);
    console.log(
      `checkpoint: ${(size / 1e9).toFixed(2)} GB of fp16 weights (${model === 'sdxl' ? 'SDXL base' : 'SD 1.5'} ` +
        `shapes), written in ${((performance.now() - t) / 1000).toFixed(1)} s`,
    );
    const results: Array<{ seconds: number; maxRssMB: number; unetMB: number; weightsMB: number }> = [];
    for (let run = 0; run < runs; run++) {
      const out = join(dir, `out-${run}`);
      t = performance.now();
      const child = spawnSync(
        process.execPath,
        [
          ...process.execArgv,
          fileURLToPath(import.meta.url),
          '--precision',
          precision,
          ...(cudaGraphArg ? ['--cuda-graph', cudaGraphArg] : []),
          '--child',
          source,
          '--child',
          out,
        ],
        { encoding: 'utf8', maxBuffer: 1 << 24 },
      );
      if (child.status !== 0) throw new Error(`import failed: ${child.stderr}`);
      const r = JSON.parse(child.stdout.trim().split('\n').pop()!) as (typeof results)[number];
      results.push(r);
      console.log(`run ${run + 1}: ${r.seconds.toFixed(1)} s, peak RSS ${r.maxRssMB.toFixed(0)} MB (UNet file ${r.unetMB.toFixed(0)} MB)`);
      if (values.keep && run === runs - 1) {
        cpSync(out, values.keep, { recursive: true });
        rmSync(out, { recursive: true, force: true });
        console.log(`kept the import in ${values.keep}`);
      } else {
        rmSync(out, { recursive: true, force: true });
      }
    }
    const seconds = median(results.map((r) => r.seconds));
    const rss = median(results.map((r) => r.maxRssMB));
    const unet = results[0]!.unetMB;
    console.log(
      `median of ${runs}: ${seconds.toFixed(1)} s (goal < 60 s), peak RSS ${rss.toFixed(0)} ` +
        `MB (goal < UNet ${unet.toFixed(0)} MB + 500 MB = ${(unet + 500).toFixed(0)} MB)`,
    );
    console.log(
      JSON.stringify({
        bench: 'import',
        model,
        precision,
        cudaGraph: cudaGraphArg,
        runs,
        medianSeconds: seconds,
        medianPeakRssMB: rss,
        unetMB: unet,
      }),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
