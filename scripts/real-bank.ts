// npx tsx scripts/real-bank.ts [--model DIR] [--per-prompt K] [--python PATH]
// Makes the evaluator's real feature bank (evaluator/real_features.f16 + real_features.json): K real images per prompt
// of evaluator/prompts.json, rendered by training/real_bank_images.py (shapes_data, seed 21), through the evaluator's
// ONNX model with the same code the experiments use for generated images, stored as float16.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_MODEL_DIR } from '../src-core/model/default-model.ts';
import { Evaluator } from '../src-core/experiments/evaluator.ts';
import { toHalfBits } from '../src-core/model/half.ts';
import { BANK_INDEX, evaluatorHash, rgbImagesToRgba, type RealBankIndex } from '../src-core/experiments/real-reference.ts';

const { values } = parseArgs({
  options: { model: { type: 'string' }, 'per-prompt': { type: 'string', default: '64' }, python: { type: 'string' } },
});
const modelDir = values.model ?? DEFAULT_MODEL_DIR;
const perPrompt = Number(values['per-prompt']);
if (!Number.isInteger(perPrompt) || perPrompt < 4 || perPrompt % 2) throw new Error('--per-prompt must be an even number >= 4');
const evaluator = await Evaluator.load(modelDir);
if (!evaluator) throw new Error(`${modelDir} has no evaluator/`);
const dir = join(modelDir, 'evaluator');
const work = mkdtempSync(join(tmpdir(), 'real-bank-'));
try {
  const imagesPath = join(work, 'real.rgb');
  const python = values.python ?? process.env.PYTHON ?? 'python3';
  const args = [
    'training/real_bank_images.py',
    '--prompts',
    join(dir, 'prompts.json'),
    '--per-prompt',
    String(perPrompt),
    '--out',
    imagesPath,
  ];
  execFileSync(python, args, { stdio: 'inherit' });
  const raw = readFileSync(imagesPath);
  const side = evaluator.size,
    imageBytes = side * side * 3,
    total = evaluator.prompts.length * perPrompt;
  if (raw.length !== total * imageBytes)
    throw new Error(`expected ${total} images from real_bank_images.py, got ${raw.length / imageBytes}`);
  let dim = 0;
  const out = Buffer.alloc(total * 64 * 2);
  // One prompt at a time keeps the RGBA copies small.
  for (let p = 0; p < evaluator.prompts.length; p++) {
    const chunk = raw.subarray(p * perPrompt * imageBytes, (p + 1) * perPrompt * imageBytes);
    const { features } = await evaluator.evaluate(rgbImagesToRgba(chunk, side));
    dim = features[0].length;
    if (dim !== 64) throw new Error(`the bank layout assumes 64 features, the evaluator gives ${dim}`);
    features.forEach((f, i) => toHalfBits(f).forEach((h, j) => out.writeUInt16LE(h, 2 * ((p * perPrompt + i) * dim + j))));
  }
  const index: RealBankIndex = {
    description:
      'evaluator features of real procedural images, per prompt of prompts.json (same order): the first half of each ' +
      "prompt's images is the same-prompt reference (A), the second the real set for the real-vs-real floor (B)",
    file: 'real_features.f16',
    dim,
    perPrompt,
    seed: 21,
    evaluator_sha256: evaluatorHash(dir),
    made_by: `npx tsx scripts/real-bank.ts --per-prompt ${perPrompt} (training/real_bank_images.py renders the images)`,
    prompts: evaluator.prompts.map((p) => p.prompt),
  };
  writeFileSync(join(dir, index.file), out);
  writeFileSync(join(dir, BANK_INDEX), JSON.stringify(index, null, 1) + '\n');
  console.log(`${total} real images -> ${join(dir, index.file)} (${(out.length / 1e6).toFixed(2)} MB)`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
