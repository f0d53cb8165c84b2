// npm run bench:memory [-- --model DIR] [--cases 64x1x7,256x1x7,64x1x7x32]: peak memory of real generations
// against the estimate (src-core/pipeline/memory.ts). Each case runs in its own process (peak RSS
// only grows), one Euler step (memory does not depend on the step count). Keep cases small: on the
// built-in model 320x320 peaks at 3.2 GB and 512x512 near 20 GB.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { DEFAULT_MODEL_DIR } from '../model/default-model.ts';
import { loadModel } from '../model/model.ts';
import { estimateRequestMemory } from '../pipeline/memory.ts';
import { contextTokensOf } from '../pipeline/request-limits.ts';
import { vaeEncoderOpen } from '../pipeline/img2img-encode.ts';
import { generate } from '../pipeline/txt2img.ts';

const DEFAULT_CASES = '64x1x7,128x1x7,192x1x7,256x1x7,320x1x7,192x1x1,128x4x7,128x8x1,64x16x7';
const MIB = 2 ** 20;

interface Case {
  size: number;
  batch: number;
  cfg: number;
  /** Prompt chunks (the same short prompt joined by BREAK). */
  chunks: number;
}

function parseCase(text: string): Case {
  const [size, batch, cfg, chunks = 1] = text.split('x').map(Number);
  if (![size, batch, cfg, chunks].every(Number.isFinite)) throw new Error(`a case is SIZExBATCHxCFG[xCHUNKS], got "${text}"`);
  return { size, batch, cfg, chunks };
}

/** In the child: load, generate once, print peak RSS (MiB) and the estimate (MiB) as JSON. */
async function measure(dir: string, c: Case): Promise<void> {
  const model = await loadModel(dir);
  const loadedMiB = process.resourceUsage().maxRSS / 1024;
  const prompt = Array<string>(c.chunks).fill('a red circle on a blue background').join(' BREAK ');
  await generate(model, {
    prompt,
    seed: 1,
    steps: 1,
    width: c.size,
    height: c.size,
    count: 1,
    batchSize: c.batch,
    cfgScale: c.cfg,
  });
  const estimate = estimateRequestMemory(
    model.info,
    // As the engine's own check counts it (pipeline/request-limits.ts): the VAE encoder only when it is open.
    {
      width: c.size,
      height: c.size,
      batchSize: c.batch,
      cfgScale: c.cfg,
      vaeEncoder: vaeEncoderOpen(model),
      contextTokens: contextTokensOf(model, { prompt, negativePrompt: '' }),
    },
    model.provider,
  );
  console.log(
    JSON.stringify({ name: model.info.name, loadedMiB, peakMiB: process.resourceUsage().maxRSS / 1024, estimateMiB: estimate.bytes / MIB }),
  );
}

function main(): void {
  const { values } = parseArgs({
    options: {
      model: { type: 'string', default: DEFAULT_MODEL_DIR },
      cases: { type: 'string', default: DEFAULT_CASES },
      child: { type: 'string' },
    },
  });
  if (values.child) return void measure(values.model!, parseCase(values.child));
  console.log('model              size       batch  CFG  chunks   peak RSS   estimate  ratio');
  for (const text of values.cases!.split(',')) {
    const c = parseCase(text);
    // The budget would refuse cases on small machines; the bench measures, so lift it.
    const run = spawnSync(
      process.execPath,
      ['--import', 'tsx', fileURLToPath(import.meta.url), '--model', values.model!, '--child', text],
      {
        encoding: 'utf8',
        env: { ...process.env, RESTART_STUDIO_MEMORY_GB: '1000' },
      },
    );
    const line = run.stdout.trim().split('\n').pop() ?? '';
    if (run.status !== 0 || !line.startsWith('{')) {
      console.log(`${text}: failed (${run.status}): ${run.stderr.trim().split('\n').pop()}`);
      continue;
    }
    const r = JSON.parse(line) as { name: string; peakMiB: number; estimateMiB: number };
    const cells = [
      r.name.padEnd(18),
      `${c.size}x${c.size}`.padStart(9),
      String(c.batch).padStart(6),
      String(c.cfg).padStart(4),
      String(c.chunks).padStart(7),
      `${r.peakMiB.toFixed(0)} MiB`.padStart(10),
      `${r.estimateMiB.toFixed(0)} MiB`.padStart(10),
      (r.estimateMiB / r.peakMiB).toFixed(2).padStart(6),
    ];
    console.log(cells.join(' '));
  }
}

main();
