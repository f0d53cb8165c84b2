// npm run bench:lora -- [--runs N] [--keep DIR]
// Time to apply a LoRA to an SD 1.5-sized UNet and to switch LoRA sets (issue 20; goal: under 3 s each), as the
// engine does it (a small patched graph whose weight changes onnxruntime folds while it creates the session), and
// the alternative of rewriting the whole weights file with the merged weights. The UNet (random weights, 3.4 GB)
// and two random kohya LoRAs (rank 32 and 16 on all 192 attention, feed-forward and projection layers) are
// written by the benchmark. Wall-clock medians, with the process's CPU time beside them (the machine is shared).
// Like the engine's process, the benchmark runs with glibc's malloc tunables (model/huge-pages.ts: huge pages, large
// blocks reused from the heap): almost all of a LoRA set's cost is onnxruntime writing memory (the merged weights,
// then their prepacked copies, about 2 GB), cheap where it reuses what a released session gave back. As in the app,
// the base UNet is opened as a model load opens it, and a LoRA set's UNet takes its place (the base is released
// first, model/reopenable.ts); each run ends with a prompt without LoRAs, which opens the base again. Run 1's apply
// is the first set after the UNet loads, and is also reported by itself.
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, openSync, closeSync, readSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { ModelAdapters } from '../adapters/apply.ts';
import { adaptedSessionOptions } from '../adapters/model-adapters.ts';
import { readLoraFile } from '../adapters/lora-file.ts';
import { mergeLoras, type LoraUse } from '../adapters/lora-merge.ts';
import { readModelProto, type LowRankDelta } from '../adapters/onnx-patch.ts';
import type { StableDiffusionModel } from '../model/model.ts';
import { rerunWithHugePages } from '../model/huge-pages.ts';
import { openComponent, sessionOptions, type ComponentSession } from '../model/session.ts';
import { ModelSessions } from '../model/reopenable.ts';
import { median as medianOf } from '../experiments/stats.ts';
import { Graph } from '../onnx/graph.ts';
import { externalDataOf, writeModel } from '../onnx/write-model.ts';
import { loraLayersOf, writeRandomLora, writeRandomUNet } from './lora-fixtures.ts';

interface Timing {
  wallS: number;
  cpuS: number;
}

async function timed<T>(work: () => Promise<T>): Promise<{ result: T; timing: Timing }> {
  const wall = performance.now(),
    cpu = process.cpuUsage();
  const result = await work();
  const used = process.cpuUsage(cpu);
  return { result, timing: { wallS: (performance.now() - wall) / 1000, cpuS: (used.user + used.system) / 1e6 } };
}

function median(timings: Timing[]): Timing {
  return { wallS: medianOf(timings.map((t) => t.wallS)), cpuS: medianOf(timings.map((t) => t.cpuS)) };
}

const show = (t: Timing) => `${t.wallS.toFixed(2)} s (CPU ${t.cpuS.toFixed(2)} s)`;

/** Just enough of a loaded model for the adapters to change its UNet, and to release and reopen it. */
function unetOnlyModel(dir: string, unet: ComponentSession, sessions: ModelSessions): StableDiffusionModel {
  return { info: { dir }, unet, textEncoders: [], provider: 'cpu', sessions } as unknown as StableDiffusionModel;
}

/** The alternative: a copy of the whole weights file with the merged weights written over their originals. */
async function rewriteWholeFile(unetDir: string, deltas: LowRankDelta[], outDir: string, merge: ort.InferenceSession): Promise<string> {
  mkdirSync(outDir, { recursive: true });
  copyFileSync(join(unetDir, 'model.onnx'), join(outDir, 'model.onnx'));
  copyFileSync(join(unetDir, 'model.onnx_data'), join(outDir, 'model.onnx_data'));
  const proto = readModelProto(join(unetDir, 'model.onnx'));
  const where = new Map(proto.graph!.initializer!.map((t) => [t.name!, externalDataOf(t)!]));
  const fd = openSync(join(outDir, 'model.onnx_data'), 'r+');
  try {
    for (const d of deltas) {
      const { offset, length } = where.get(d.initializer)!;
      const bytes = Buffer.alloc(length!);
      readSync(fd, bytes, 0, bytes.length, offset);
      const w = new Float32Array(bytes.buffer, bytes.byteOffset, d.rows * d.cols);
      const out = await merge.run({
        a: new ort.Tensor('float32', d.a, [d.rows, d.rank]),
        b: new ort.Tensor('float32', d.b, [d.rank, d.cols]),
        w: new ort.Tensor('float32', w, [d.rows, d.cols]),
      });
      const merged = out.merged!.data as Float32Array;
      writeSync(fd, new Uint8Array(merged.buffer, merged.byteOffset, merged.byteLength), 0, merged.byteLength, Number(offset));
    }
  } finally {
    closeSync(fd);
  }
  return join(outDir, 'model.onnx');
}

async function mergeSession(dir: string): Promise<ort.InferenceSession> {
  const g = new Graph('merge', 'float32');
  const a = g.input('a', 'float32', ['rows', 'rank']),
    b = g.input('b', 'float32', ['rank', 'cols']),
    w = g.input('w', 'float32', ['rows', 'cols']);
  g.output('merged', g.op('Gemm', [a, b, w]), 'float32', ['rows', 'cols']);
  await writeModel(g, dir);
  return ort.InferenceSession.create(join(dir, 'model.onnx'), sessionOptions('cpu'));
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { runs: { type: 'string' }, keep: { type: 'string' }, keep_sessions: { type: 'string' } } });
  const runs = Number(values.runs ?? 3);
  const root = values.keep ?? mkdtempSync(join(tmpdir(), 'lora-bench-'));
  try {
    const model = join(root, 'model');
    if (!existsSync(join(model, 'unet', 'model.onnx'))) {
      const { timing } = await timed(() => writeRandomUNet(model));
      console.log(`SD 1.5-sized UNet of random fp32 weights written in ${show(timing)}`);
    }
    const { layers, table } = loraLayersOf(join(model, 'unet', 'model.onnx'));
    const loras = join(root, 'loras');
    writeRandomLora(join(loras, 'style-a.safetensors'), layers, 32, 16, 1);
    writeRandomLora(join(loras, 'style-b.safetensors'), layers, 16, 8, 2);
    const changed = layers.reduce((sum, l) => sum + l.shape.reduce((a, b) => a * b, 1), 0);
    console.log(
      `LoRAs: ${layers.length} layers (${(changed / 1e6).toFixed(0)} M weights, ${((changed * 4) / 1e9).toFixed(2)} GB in fp32 change); ` +
        'A rank 32, B rank 16',
    );

    const base = await timed(() => openComponent(model, 'unet', 'cpu'));
    const sessions = new ModelSessions([base.result], [base.result], async (c) => (await openComponent(model, c, 'cpu')).session);
    const hugePages = /glibc\.malloc\.hugetlb=[12]/.test(process.env.GLIBC_TUNABLES ?? '');
    console.log(`base UNet session, as a model load opens it: ${show(base.timing)}; GLIBC_TUNABLES=${process.env.GLIBC_TUNABLES ?? ''}`);
    const settings = { loraDirs: [loras], embeddingDirs: [], cacheRoot: join(root, 'cache'), keep: Number(values.keep_sessions ?? 1) };

    const applied: Timing[] = [],
      switched: Timing[] = [],
      switchedPair: Timing[] = [],
      repeated: Timing[] = [],
      toBase: Timing[] = [],
      rewrites: Timing[] = [];
    const merge = await mergeSession(join(root, 'merge'));
    // The two ways take turns within each run, so that both see the same state of a shared machine.
    for (let run = 0; run < runs; run++) {
      const adapters = new ModelAdapters(unetOnlyModel(model, base.result, sessions), settings);
      rmSync(settings.cacheRoot, { recursive: true, force: true });
      applied.push((await timed(() => adapters.prepare({ prompt: 'x <lora:style-a:1>', negativePrompt: '' }))).timing);
      switched.push((await timed(() => adapters.prepare({ prompt: 'x <lora:style-b:0.8>', negativePrompt: '' }))).timing);
      // Two LoRAs merged at rank 48 (and, as each new set, the previous adapted UNet closed first unless --keep_sessions).
      switchedPair.push(
        (await timed(() => adapters.prepare({ prompt: 'x <lora:style-a:0.5> <lora:style-b:0.5>', negativePrompt: '' }))).timing,
      );
      repeated.push(
        (await timed(() => adapters.prepare({ prompt: 'x <lora:style-a:0.5> <lora:style-b:0.5>', negativePrompt: '' }))).timing,
      );
      toBase.push((await timed(() => adapters.prepare({ prompt: 'x', negativePrompt: '' }))).timing);
      await adapters.dispose();
      const file = readLoraFile(join(loras, 'style-a.safetensors'));
      const use: LoraUse = { name: 'style-a', ...file, te: 1, unet: 1 };
      const rewritten = await timed(async () => {
        const { deltas } = mergeLoras([use], { unet: table });
        const path = await rewriteWholeFile(join(model, 'unet'), deltas.unet!, join(root, 'rewrite'), merge);
        return ort.InferenceSession.create(path, adaptedSessionOptions('cpu'));
      });
      rewrites.push(rewritten.timing);
      await rewritten.result.release();
      file.file.close();
      rmSync(join(root, 'rewrite'), { recursive: true, force: true });
      console.log(
        `run ${run + 1}: apply ${show(applied.at(-1)!)}, switch ${show(switched.at(-1)!)}, to two LoRAs ${show(switchedPair.at(-1)!)}, ` +
          `repeat ${show(repeated.at(-1)!)}, back to no LoRA ${show(toBase.at(-1)!)}; whole file rewritten ${show(rewrites.at(-1)!)}`,
      );
    }
    await merge.release();
    await sessions.dispose();

    const result = {
      firstApply: applied[0],
      apply: median(applied),
      switch: median(switched),
      switchToTwo: median(switchedPair),
      repeat: median(repeated),
      firstToBase: toBase[0],
      toBase: median(toBase),
      rewriteWholeFile: median(rewrites),
      baseSession: base.timing,
    };
    if (result.firstApply) console.log(`first LoRA set after the UNet loaded (run 1): ${show(result.firstApply)}`);
    console.log(
      `median apply one LoRA: ${show(result.apply)}; switch to another: ${show(result.switch)}; ` +
        `to a two-LoRA set: ${show(result.switchToTwo)}; repeat a set: ${show(result.repeat)} (goal < 3 s)`,
    );
    if (result.firstToBase)
      console.log(`back to no LoRA (the base UNet opened again): first ${show(result.firstToBase)}, median ${show(result.toBase)}`);
    console.log(`alternative, whole weights file rewritten: ${show(result.rewriteWholeFile)}`);
    console.log(
      JSON.stringify({
        bench: 'lora',
        runs,
        layers: layers.length,
        changedWeights: changed,
        hugePages,
        tunables: process.env.GLIBC_TUNABLES,
        ...result,
      }),
    );
  } finally {
    if (!values.keep) rmSync(root, { recursive: true, force: true });
  }
}

await rerunWithHugePages();
await main();
