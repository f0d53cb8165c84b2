// npm run experiment -- restart-vs-baselines [--out DIR] [--quick] [--prompts P --seeds S --sets R --sweep-seeds T] [--report-only]
// The shape of the Restart paper's experiments on the embedded model: Frechet distance to real images of the same prompts
// (evaluator features) against model evaluations for ODE samplers (Euler, Heun, DPM++ 2M), the stochastic one (Euler a),
// Restart in the paper's form and AUTOMATIC1111's preset; and conditional FD, prompt accuracy and diversity across CFG scales.
// Writes a markdown report, PNG plots and the raw numbers into a folder; --report-only rewrites the report, plots and CSVs
// from the folder's results.json (after a change to how the numbers are judged or shown) without generating anything.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { cpus } from 'node:os';
import { DEFAULT_MODEL_DIR } from '../src-core/model/default-model.ts';
import { loadModel } from '../src-core/model/model.ts';
import { Evaluator } from '../src-core/experiments/evaluator.ts';
import { mean, meanPairwiseDistance, std } from '../src-core/experiments/stats.ts';
import { stringOptions } from '../src-core/cli/string-options.ts';
import { SetRunner } from './experiment/measure.ts';
import { writeOutputs } from './experiment/outputs.ts';
import { report } from './experiment/report.ts';
import {
  FD_CFG,
  fdSettings,
  SWEEP_SETTINGS,
  SWEEP_STEPS,
  sweepScales,
  type FdRow,
  type Meta,
  type Results,
  type SweepRow,
} from './experiment/settings.ts';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    quick: { type: 'boolean' },
    'report-only': { type: 'boolean' },
    ...stringOptions('out', 'model', 'prompts', 'seeds', 'sets', 'sweep-seeds'),
  },
});
if (positionals[0] !== 'restart-vs-baselines') {
  console.error(
    'usage: npm run experiment -- restart-vs-baselines [--out DIR] [--quick] [--model DIR] ' +
      '[--prompts P --seeds S --sets R --sweep-seeds T] [--report-only]',
  );
  process.exit(2);
}
const out = resolve(values.out ?? join('reports', 'restart-vs-baselines'));
const commandOf = (m: Meta) =>
  `npm run experiment -- restart-vs-baselines${m.quick ? ' --quick' : ''} --prompts ${m.prompts} --seeds ${m.seedsPerPrompt} ` +
  `--sets ${m.seedSets} --sweep-seeds ${m.sweepSeeds}`;
if (values['report-only']) {
  const saved = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as Results;
  await writeOutputs(out, saved);
  writeFileSync(join(out, 'README.md'), report(saved, commandOf(saved.meta)));
  console.log(`report rewritten from ${join(out, 'results.json')}`);
  process.exit(0);
}

const quick = values.quick ?? false;
const modelDir = values.model ?? DEFAULT_MODEL_DIR;
// Sizes: P prompts x S seeds per prompt per seed set, R seed sets for the spread; T seeds per prompt in the CFG sweep.
const P = Number(values.prompts ?? (quick ? 4 : 24)),
  S = Number(values.seeds ?? (quick ? 2 : 4)),
  R = Number(values.sets ?? (quick ? 2 : 3)),
  T = Number(values['sweep-seeds'] ?? 2);
if (![P, S, R, T].every((v) => Number.isInteger(v) && v >= 1) || R < 2 || T < 2 || P * S < 2)
  throw new Error('--prompts, --seeds, --sets and --sweep-seeds must be whole numbers (--sets and --sweep-seeds at least 2)');
const evaluator = await Evaluator.load(modelDir);
if (!evaluator?.bank) throw new Error(`${modelDir} has no evaluator/ with a real feature bank; this experiment needs both`);
const bank = evaluator.bank;
// More prompts than the set holds would give a stride of 0: the first prompt P times, its real images repeated.
if (P > evaluator.prompts.length) throw new Error(`--prompts ${P}: the evaluator's prompt set has ${evaluator.prompts.length} prompts`);
const stride = Math.floor(evaluator.prompts.length / P);
const prompts = Array.from({ length: P }, (_, i) => evaluator.prompts[i * stride]);
// One real reference (half A of the bank) per image count, shared by every setting and seed set.
const fdReference = bank.reference(prompts.map((p) => ({ prompt: p.prompt, count: S })));
const sweepReference = bank.reference(prompts.map((p) => ({ prompt: p.prompt, count: T })));
const model = await loadModel(modelDir);
const runner = new SetRunner(model, evaluator, prompts);
const started = Date.now();
mkdirSync(out, { recursive: true });
const log = (s: string) => console.log(`[${((Date.now() - started) / 1000).toFixed(0)} s] ${s}`);
log(
  `${P} prompts x ${S} seeds x ${R} sets; real-vs-real floor ${fdReference.floor.toFixed(2)} (sweep: ${sweepReference.floor.toFixed(2)})`,
);

// Part 1: conditional FD against NFE; seed set r uses the same seeds for every setting.
const fdRows: FdRow[] = [];
for (const setting of fdSettings(quick)) {
  const request = {
    sampler: setting.sampler,
    steps: setting.steps,
    cfgScale: FD_CFG,
    ...(setting.restart ? { restart: setting.restart } : {}),
  };
  const sets = [];
  for (let r = 0; r < R; r++) sets.push(await runner.run(request, 100_000 * (r + 1), S, fdReference.stats));
  const runs = sets.map((s) => s.fd);
  const row: FdRow = {
    sampler: setting.label,
    family: setting.family,
    ...(setting.segments ? { segments: setting.segments } : {}),
    steps: setting.steps,
    nfe: sets[0].evaluations,
    fd: mean(runs),
    fdStd: std(runs),
    fdRuns: runs,
    accuracy: mean(sets.map((s) => s.accuracy)),
    secondsPerImage: mean(sets.map((s) => s.seconds)),
  };
  fdRows.push(row);
  log(
    `${row.sampler} ${row.segments ?? ''} ${row.steps} steps: NFE ${row.nfe}, FD ${row.fd.toFixed(2)} +- ${row.fdStd.toFixed(2)}, ` +
      `accuracy ${row.accuracy.toFixed(3)}`,
  );
}

// Part 2: conditional FD, prompt accuracy and diversity across CFG scales (one seed set).
const sweepRows: SweepRow[] = [];
for (const setting of SWEEP_SETTINGS) {
  for (const cfg of sweepScales(quick)) {
    const request = {
      sampler: setting.sampler,
      steps: SWEEP_STEPS,
      cfgScale: cfg,
      ...(setting.restart ? { restart: setting.restart } : {}),
    };
    const set = await runner.run(request, 500_000, T, sweepReference.stats);
    const perPrompt = set.byPrompt.map((f) => meanPairwiseDistance(f));
    sweepRows.push({
      sampler: setting.label,
      cfg,
      nfe: set.evaluations,
      accuracy: set.accuracy,
      diversity: mean(perPrompt),
      diversityStd: std(perPrompt) / Math.sqrt(perPrompt.length),
      fd: set.fd,
    });
    log(
      `${setting.label} CFG ${cfg}: FD ${set.fd.toFixed(2)}, accuracy ${(100 * set.accuracy).toFixed(1)}%, ` +
        `diversity ${mean(perPrompt).toFixed(3)}`,
    );
  }
}
await model.dispose();

const trainingInfo = (() => {
  try {
    return JSON.parse(readFileSync(join(modelDir, 'training_info.json'), 'utf8'));
  } catch {
    return null;
  }
})();
const meta: Meta = {
  date: new Date().toISOString(),
  model: modelDir,
  training: trainingInfo,
  cpu: cpus()[0]?.model,
  cores: cpus().length,
  node: process.version,
  prompts: P,
  stride,
  seedsPerPrompt: S,
  seedSets: R,
  sweepSeeds: T,
  fdCfg: FD_CFG,
  sweepSteps: SWEEP_STEPS,
  featureSize: bank.index.dim,
  floor: fdReference.floor,
  sweepFloor: sweepReference.floor,
  quick,
  minutes: (Date.now() - started) / 60000,
};
const results: Results = { meta, fd: fdRows, sweep: sweepRows };
await writeOutputs(out, results);
writeFileSync(join(out, 'README.md'), report(results, commandOf(meta)));
log(`report written to ${out}`);
