// Generates images with the exported ONNX model (onnxruntime-node only) for prompts of
// models/restart-shapes-64/evaluator/prompts.json, classifies them with the exported evaluator and
// prints per-attribute prompt accuracy; writes a grid PNG.
// Usage: npx tsx training/sample-onnx.ts [n_prompts=96] [guidance=5] [steps=20] [out=training/.work/onnx_samples.png]
//   [schedule=karras|uniform]
import * as ort from 'onnxruntime-node';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadModel, generate, writePng, MODEL_DIR } from './sd-lite.ts';

interface PromptCase {
  prompt: string;
  ids: number[];
  labels: Record<string, number>;
}

const n = Number(process.argv[2] ?? 96);
const guidance = Number(process.argv[3] ?? 5);
const steps = Number(process.argv[4] ?? 20);
const schedule = (process.argv[6] ?? 'karras') as 'karras' | 'uniform';
if (schedule !== 'karras' && schedule !== 'uniform') throw new Error(`schedule must be karras or uniform (got ${String(schedule)})`);
const outPng = process.argv[5] ?? path.join(path.dirname(fileURLToPath(import.meta.url)), '.work', 'onnx_samples.png');
const all = (JSON.parse(fs.readFileSync(path.join(MODEL_DIR, 'evaluator', 'prompts.json'), 'utf8')) as { prompts: PromptCase[] }).prompts;
type EvaluatorInfo = { outputs: Record<string, { classes: unknown[] }> };
const info = JSON.parse(fs.readFileSync(path.join(MODEL_DIR, 'evaluator', 'evaluator.json'), 'utf8')) as EvaluatorInfo;
// deterministic spread over all combinations
const chosen = Array.from({ length: n }, (_, i) => all[Math.floor((i * 7919) % all.length)]);
const m = await loadModel();
const ev = await ort.InferenceSession.create(path.join(MODEL_DIR, 'evaluator', 'model.onnx'));
const heads = ['background', 'shape', 'color', 'count'];
const correct: Record<string, number> = Object.fromEntries(heads.map((h) => [h, 0]));
let allOk = 0;
const cols = 12,
  rows = Math.ceil(n / cols),
  S = 66;
const grid = new Uint8Array(rows * S * cols * S * 3).fill(128);
const B = 8;
for (let s = 0; s < n; s += B) {
  const batch = chosen.slice(s, s + B);
  const img = await generate(
    m,
    batch.map((p) => p.ids),
    { steps, guidance, seed: 1000 + s, schedule },
  );
  const out = await ev.run({ image: img });
  const pixels = img.data as Float32Array;
  for (let b = 0; b < batch.length; b++) {
    let ok = true;
    for (const h of heads) {
      const k = info.outputs[h].classes.length,
        d = out[h].data as Float32Array;
      let best = 0;
      for (let j = 1; j < k; j++) if (d[b * k + j] > d[b * k + best]) best = j;
      if (best === batch[b].labels[h]) correct[h]++;
      else ok = false;
    }
    if (ok) allOk++;
    const gi = s + b,
      r = Math.floor(gi / cols),
      c = gi % cols;
    for (let y = 0; y < 64; y++)
      for (let x = 0; x < 64; x++)
        for (let ch = 0; ch < 3; ch++) {
          const v = pixels[((b * 3 + ch) * 64 + y) * 64 + x];
          grid[((r * S + y) * cols * S + c * S + x) * 3 + ch] = Math.round((v + 1) * 127.5);
        }
  }
}
writePng(outPng, grid, cols * S, rows * S);
console.log(
  JSON.stringify({
    prompts: n,
    guidance,
    steps,
    sampler: `Euler, ${schedule} schedule`,
    accuracy: Object.fromEntries(heads.map((h) => [h, +(correct[h] / n).toFixed(3)])),
    all_attributes: +(allOk / n).toFixed(3),
    grid: outPng,
    grid_order: chosen.slice(0, Math.min(n, 24)).map((p) => p.prompt),
  }),
);
