// npm run experiment -- restart-vs-baselines [--out DIR] [--quick] [--prompts P --seeds S --sets R] [--report-only]
// The shape of the Restart paper's experiments on the embedded model: Frechet distance (evaluator
// features vs real images) against model evaluations for ODE samplers (Euler, Heun, DPM++ 2M), the
// stochastic one (Euler a) and Restart; and prompt accuracy against diversity across CFG scales.
// Writes a markdown report, PNG plots and the raw numbers into a folder; --report-only rewrites the report from the
// folder's results.json (after a change to how the numbers are judged) without generating anything.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { cpus } from 'node:os';
import type { GenerateRequestInput, RestartSettings } from '../src-core/contract/generate.ts';
import type { TextConditioning } from '../src-core/guidance/unet.ts';
import { DEFAULT_MODEL_DIR } from '../src-core/model/default-model.ts';
import { loadModel, type StableDiffusionModel } from '../src-core/model/model.ts';
import { generate } from '../src-core/pipeline/txt2img.ts';
import { Evaluator, promptAccuracy, type PromptCase } from '../src-core/experiments/evaluator.ts';
import { featureStats, frechetDistance, mean, meanPairwiseDistance, std } from '../src-core/experiments/stats.ts';
import { rgbaOf } from '../src-core/experiments/sweep.ts';
import { renderLinePlot } from '../src-core/experiments/plot.ts';
import { stringOptions } from '../src-core/cli/string-options.ts';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    out: { type: 'string' },
    quick: { type: 'boolean' },
    ...stringOptions('model', 'prompts', 'seeds', 'sets'),
    'report-only': { type: 'boolean' },
  },
});
if (positionals[0] !== 'restart-vs-baselines') {
  console.error(
    'usage: npm run experiment -- restart-vs-baselines [--out DIR] [--quick] [--model DIR] ' +
      '[--prompts P --seeds S --sets R] [--report-only]',
  );
  process.exit(2);
}
const quick = values.quick ?? false;
const out = resolve(values.out ?? join('reports', 'restart-vs-baselines'));
const modelDir = values.model ?? DEFAULT_MODEL_DIR;

// Sizes: P prompts x S seeds per prompt per seed set, R independent seed sets for the spread.
// Defaults sized to run in about half an hour on 2 CPU cores.
const P = Number(values.prompts ?? (quick ? 8 : 24)),
  S = Number(values.seeds ?? (quick ? 4 : 8)),
  R = Number(values.sets ?? (quick ? 2 : 3));
if (![P, S, R].every((v) => Number.isInteger(v) && v >= 1) || R < 2)
  throw new Error('--prompts, --seeds and --sets must be whole numbers (--sets at least 2, for the spread)');
const SWEEP_SEEDS = quick ? 3 : 4;
const FD_CFG = 3;
const SWEEP_STEPS = 20;
const CFG_SCALES = quick ? [1, 3, 8] : [1, 2, 3, 5, 8];
// FD is unconditional (the whole set against real images, whatever each prompt asked), so a setting that ignores the
// prompts can still sit close to the real distribution: the FD comparisons only use settings that draw the prompt
// about as well as the best one (prompt accuracy within ACCURACY_MARGIN of it); the others are listed as excluded.
const ACCURACY_MARGIN = 0.15;
const RESTART_SEGMENTS: RestartSettings = { segments: [[3, 2, 0.1, 2]] };

interface Config {
  label: string;
  family: 'ODE' | 'SDE' | 'Restart';
  sampler: GenerateRequestInput['sampler'];
  steps: number[];
  restart?: RestartSettings;
}
const FD_CONFIGS: Config[] = [
  { label: 'Euler', family: 'ODE', sampler: 'euler', steps: quick ? [6, 24] : [6, 12, 24] },
  { label: 'Heun', family: 'ODE', sampler: 'heun', steps: quick ? [3, 12] : [3, 6, 12] },
  { label: 'DPM++ 2M', family: 'ODE', sampler: 'dpmpp_2m', steps: quick ? [6, 24] : [6, 12, 24] },
  { label: 'Euler a', family: 'SDE', sampler: 'euler_ancestral', steps: quick ? [6, 24] : [6, 12, 24, 48] },
  { label: 'Restart [[3,2,0.1,2]]', family: 'Restart', sampler: 'restart', steps: quick ? [3, 9] : [3, 5, 9], restart: RESTART_SEGMENTS },
];
const SWEEP_CONFIGS: Array<{ label: string; sampler: GenerateRequestInput['sampler']; restart?: RestartSettings }> = [
  { label: 'Euler', sampler: 'euler' },
  { label: 'DPM++ 2M', sampler: 'dpmpp_2m' },
  { label: 'Euler a', sampler: 'euler_ancestral' },
  { label: 'Restart (paper SD preset)', sampler: 'restart', restart: { preset: 'sd' } },
];

type FdRow = {
  sampler: string;
  family: string;
  steps: number;
  nfe: number;
  fd: number;
  fdStd: number;
  fdRuns: number[];
  accuracy: number;
  secondsPerImage: number;
};
type SweepRow = { sampler: string; cfg: number; nfe: number; accuracy: number; diversity: number; diversityStd: number };
interface Meta {
  date: string;
  model: string;
  training: { unet_steps?: number; unet_batch?: number | string; unet_train_minutes?: number; trained_on?: string } | null;
  cpu?: string;
  cores: number;
  node: string;
  prompts: number;
  seedsPerPrompt: number;
  seedSets: number;
  fdCfg: number;
  sweepSteps: number;
  quick: boolean;
  minutes: number;
}
interface SetResult {
  features: Float32Array[];
  byPrompt: Float32Array[][];
  accuracy: number;
  evaluations: number;
  seconds: number;
}

async function runSet(
  model: StableDiffusionModel,
  evaluator: Evaluator,
  prompts: PromptCase[],
  seedBase: number,
  request: Partial<GenerateRequestInput>,
  encodings: Map<string, TextConditioning>,
  seeds = S,
): Promise<SetResult> {
  const features: Float32Array[] = [],
    byPrompt: Float32Array[][] = [];
  let hits = 0,
    total = 0,
    evaluations = 0;
  const t0 = performance.now();
  for (const [k, prompt] of prompts.entries()) {
    const result = await generate(
      model,
      { ...request, prompt: prompt.prompt, seed: seedBase + k * seeds, count: seeds, batchSize: seeds } as GenerateRequestInput,
      { encodings },
    );
    evaluations = result.evaluations;
    const evaluation = await evaluator.evaluate(result.images.map((i) => rgbaOf(i.png).rgba));
    features.push(...evaluation.features);
    byPrompt.push(evaluation.features);
    hits += promptAccuracy(evaluation.predictions, prompt.labels) * seeds;
    total += seeds;
  }
  return { features, byPrompt, accuracy: hits / total, evaluations, seconds: (performance.now() - t0) / 1000 / total };
}

// Read with the model, so the report names the weights that were actually loaded.
if (values['report-only']) {
  const saved = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as { meta: Meta; fd: FdRow[]; sweep: SweepRow[] };
  const savedEvaluator = await Evaluator.load(saved.meta.model);
  if (!savedEvaluator) throw new Error(`${saved.meta.model} has no evaluator/`);
  writeFileSync(
    join(out, 'README.md'),
    report(
      saved.fd,
      saved.sweep,
      saved.meta,
      Math.floor(savedEvaluator.prompts.length / saved.meta.prompts),
      savedEvaluator.spec.outputs.features?.size,
    ),
  );
  console.log(`report rewritten from ${join(out, 'results.json')}`);
  process.exit(0);
}
const trainingInfo = (() => {
  try {
    return JSON.parse(readFileSync(join(modelDir, 'training_info.json'), 'utf8'));
  } catch {
    return null;
  }
})();
const model = await loadModel(modelDir);
const loadedEvaluator = await Evaluator.load(modelDir);
if (!loadedEvaluator) throw new Error(`${modelDir} has no evaluator/; this experiment needs the embedded model's evaluator`);
const evaluator: Evaluator = loadedEvaluator;
const stride = Math.floor(evaluator.prompts.length / P);
const prompts = Array.from({ length: P }, (_, i) => evaluator.prompts[i * stride]);
const encodings = new Map<string, TextConditioning>();
const started = Date.now();
mkdirSync(out, { recursive: true });
const log = (s: string) => console.log(`[${((Date.now() - started) / 1000).toFixed(0)} s] ${s}`);

// Part 1: Frechet distance against NFE.
const fdRows: FdRow[] = [];
for (const config of FD_CONFIGS) {
  for (const steps of config.steps) {
    const runs: number[] = [],
      accuracies: number[] = [],
      seconds: number[] = [];
    let nfe = 0;
    for (let r = 0; r < R; r++) {
      const set = await runSet(
        model,
        evaluator,
        prompts,
        100_000 * (r + 1),
        { sampler: config.sampler, steps, cfgScale: FD_CFG, ...(config.restart ? { restart: config.restart } : {}) },
        encodings,
      );
      runs.push(frechetDistance(featureStats(set.features), evaluator.reference));
      accuracies.push(set.accuracy);
      seconds.push(set.seconds);
      nfe = set.evaluations;
    }
    fdRows.push({
      sampler: config.label,
      family: config.family,
      steps,
      nfe,
      fd: mean(runs),
      fdStd: std(runs),
      fdRuns: runs,
      accuracy: mean(accuracies),
      secondsPerImage: mean(seconds),
    });
    log(`${config.label} ${steps} steps: NFE ${nfe}, FD ${mean(runs).toFixed(3)} +- ${std(runs).toFixed(3)}`);
  }
}

// Part 2: prompt accuracy against diversity across CFG scales.
const sweepRows: SweepRow[] = [];
for (const config of SWEEP_CONFIGS) {
  for (const cfg of CFG_SCALES) {
    const set = await runSet(
      model,
      evaluator,
      prompts,
      500_000,
      { sampler: config.sampler, steps: SWEEP_STEPS, cfgScale: cfg, ...(config.restart ? { restart: config.restart } : {}) },
      encodings,
      SWEEP_SEEDS,
    );
    const perPrompt = set.byPrompt.map((f) => meanPairwiseDistance(f));
    sweepRows.push({
      sampler: config.label,
      cfg,
      nfe: set.evaluations,
      accuracy: set.accuracy,
      diversity: mean(perPrompt),
      diversityStd: std(perPrompt) / Math.sqrt(perPrompt.length),
    });
    log(`${config.label} CFG ${cfg}: accuracy ${(100 * set.accuracy).toFixed(1)}%, diversity ${mean(perPrompt).toFixed(3)}`);
  }
}
await model.dispose();

// Plots and raw numbers.
writeFileSync(
  join(out, 'fd-vs-nfe.png'),
  await renderLinePlot({
    title:
      `Frechet distance to real images vs model evaluations ` +
      `(CFG ${FD_CFG}, ${P * S} images per point, mean +- std over ${R} seed sets)`,
    x: { field: 'nfe', title: 'model evaluations (NFE)', log: true },
    y: { field: 'fd', title: 'Frechet distance (evaluator features)' },
    series: 'sampler',
    yError: 'fdStd',
    rows: fdRows.map(({ fdRuns: _, ...r }) => r),
  }),
);
writeFileSync(
  join(out, 'accuracy-vs-diversity.png'),
  await renderLinePlot({
    title: `Prompt accuracy vs diversity across CFG scales (${SWEEP_STEPS} steps, ${P} prompts x ${SWEEP_SEEDS} seeds)`,
    x: { field: 'diversity', title: 'diversity (mean pairwise feature distance between seeds)' },
    y: { field: 'accuracy', title: 'prompt accuracy' },
    series: 'sampler',
    pointLabel: 'cfg',
    rows: sweepRows,
  }),
);
const meta: Meta = {
  date: new Date().toISOString(),
  model: modelDir,
  training: trainingInfo,
  cpu: cpus()[0]?.model,
  cores: cpus().length,
  node: process.version,
  prompts: P,
  seedsPerPrompt: S,
  seedSets: R,
  fdCfg: FD_CFG,
  sweepSteps: SWEEP_STEPS,
  quick,
  minutes: (Date.now() - started) / 60000,
};
writeFileSync(join(out, 'results.json'), JSON.stringify({ meta, fd: fdRows, sweep: sweepRows }, null, 2));
writeFileSync(
  join(out, 'fd-vs-nfe.csv'),
  [
    'sampler,family,steps,nfe,fd,fd_std,accuracy,seconds_per_image',
    ...fdRows.map((r) =>
      [
        JSON.stringify(r.sampler),
        r.family,
        r.steps,
        r.nfe,
        r.fd.toFixed(4),
        r.fdStd.toFixed(4),
        r.accuracy.toFixed(4),
        r.secondsPerImage.toFixed(4),
      ].join(','),
    ),
  ].join('\n') + '\n',
);
writeFileSync(
  join(out, 'accuracy-vs-diversity.csv'),
  [
    'sampler,cfg,nfe,accuracy,diversity,diversity_se',
    ...sweepRows.map((r) =>
      [JSON.stringify(r.sampler), r.cfg, r.nfe, r.accuracy.toFixed(4), r.diversity.toFixed(4), r.diversityStd.toFixed(4)].join(','),
    ),
  ].join('\n') + '\n',
);
writeFileSync(join(out, 'README.md'), report(fdRows, sweepRows, meta, stride, evaluator.spec.outputs.features?.size));
log(`report written to ${out}`);

// The comparisons the paper makes, decided from the numbers above.
function report(fdRows: FdRow[], sweepRows: SweepRow[], meta: Meta, stride: number, featureSize: number | undefined): string {
  const { prompts: P, seedsPerPrompt: S, seedSets: R, quick } = meta;
  const bestAccuracy = Math.max(...fdRows.map((r) => r.accuracy));
  const eligible = fdRows.filter((r) => r.accuracy >= bestAccuracy - ACCURACY_MARGIN);
  const excluded = fdRows.filter((r) => !eligible.includes(r));
  const best = (family: string, maxNfe: number) =>
    eligible.filter((r) => r.family === family && r.nfe <= maxNfe).sort((a, b) => a.fd - b.fd)[0];
  const spread = mean(eligible.map((r) => r.fdStd));
  const lines: string[] = [];
  const claim = (text: string, agree: boolean | null, evidence: string) =>
    lines.push(`- **${agree === null ? 'Not decidable' : agree ? 'Agrees' : 'Does not agree'}** — ${text} ${evidence}`);
  const pct = (v: number) => `${(100 * v).toFixed(1)}%`;
  if (excluded.length > 0) {
    lines.push(
      `- **Excluded from the FD comparisons** — prompt accuracy more than ${100 * ACCURACY_MARGIN} points ` +
        `under the best (${pct(bestAccuracy)}): ` +
        excluded.map((r) => `${r.sampler} ${r.steps} steps (NFE ${r.nfe}, FD ${r.fd.toFixed(3)}, accuracy ${pct(r.accuracy)})`).join('; ') +
        '. FD compares the whole set with real images whatever each prompt asked, ' +
        'so images that ignore the prompt can still score well on it.',
    );
  }
  for (const budget of [20, 40, 80]) {
    const restart = best('Restart', budget),
      ode = best('ODE', budget),
      sde = best('SDE', budget);
    if (!restart || !ode) {
      claim(
        `Restart beats the best ODE sampler within ${budget} evaluations.`,
        null,
        `No ${restart ? 'ODE' : 'Restart'} setting within ${budget} evaluations ` +
          'draws the prompts well enough to compare (see the exclusions).',
      );
      continue;
    }
    const gap = ode.fd - restart.fd;
    claim(
      `Restart beats the best ODE sampler within ${budget} evaluations.`,
      Math.abs(gap) <= spread ? null : gap > 0,
      `Restart: ${restart.sampler} ${restart.steps} steps (NFE ${restart.nfe}) ` +
        `FD ${restart.fd.toFixed(3)} ± ${restart.fdStd.toFixed(3)}, prompt accuracy ${pct(restart.accuracy)}; ` +
        `ODE: ${ode.sampler} ${ode.steps} steps (NFE ${ode.nfe}) FD ${ode.fd.toFixed(3)} ± ${ode.fdStd.toFixed(3)}, ` +
        `prompt accuracy ${pct(ode.accuracy)}` +
        (sde ? `; SDE: ${sde.sampler} ${sde.steps} steps (NFE ${sde.nfe}) FD ${sde.fd.toFixed(3)} ± ${sde.fdStd.toFixed(3)}.` : '.') +
        (Math.abs(gap) <= spread ? ` The difference (${gap.toFixed(3)}) is within the mean seed-set spread (${spread.toFixed(3)}).` : ''),
    );
  }
  const lowOde = best('ODE', 12),
    lowSde = best('SDE', 12);
  const bestAtLeast = (family: string, minNfe: number) =>
    eligible.filter((r) => r.family === family && r.nfe >= minNfe).sort((a, b) => a.fd - b.fd)[0];
  const highOde = bestAtLeast('ODE', 20),
    highSde = bestAtLeast('SDE', 20);
  if (lowOde && lowSde) {
    claim(
      'With few evaluations ODE samplers beat the SDE sampler.',
      Math.abs(lowSde.fd - lowOde.fd) <= spread ? null : lowOde.fd < lowSde.fd,
      `At NFE <= 12: ODE best FD ${lowOde.fd.toFixed(3)} (${lowOde.sampler}, NFE ${lowOde.nfe}), ` +
        `SDE best FD ${lowSde.fd.toFixed(3)} (NFE ${lowSde.nfe}).`,
    );
  }
  if (highOde && highSde) {
    claim(
      'With many evaluations the SDE sampler beats the ODE samplers.',
      Math.abs(highSde.fd - highOde.fd) <= spread ? null : highSde.fd < highOde.fd,
      `At NFE >= 20: ODE best FD ${highOde.fd.toFixed(3)} (${highOde.sampler}, NFE ${highOde.nfe}), ` +
        `SDE best FD ${highSde.fd.toFixed(3)} (NFE ${highSde.nfe}).`,
    );
  }
  // Accuracy-diversity: at matched accuracy, more diversity is better.
  const restartCurve = sweepRows.filter((r) => r.sampler.startsWith('Restart'));
  const others = sweepRows.filter((r) => !r.sampler.startsWith('Restart'));
  const better = restartCurve.filter((r) =>
    others.filter((o) => o.cfg === r.cfg).every((o) => r.accuracy >= o.accuracy - 0.02 && r.diversity >= o.diversity - 0.02 * o.diversity),
  );
  claim(
    "Restart gives a better prompt-accuracy / diversity trade-off across CFG scales (the analogue of the paper's Stable Diffusion figure).",
    better.length === restartCurve.length ? true : better.length === 0 ? false : null,
    `At ${better.length} of ${restartCurve.length} CFG scales Restart is at least as accurate (within 2 points) ` +
      'and at least as diverse (within 2%) as every other sampler at the same scale ' +
      `(it spends ${restartCurve[0]?.nfe ?? '?'} evaluations there against ${others[0]?.nfe ?? '?'} for Euler).`,
  );

  const fdTable = [
    '| sampler | steps | NFE | FD (mean ± std over seed sets) | prompt accuracy | s / image |',
    '|---|---|---|---|---|---|',
    ...fdRows.map(
      (r) =>
        `| ${r.sampler} | ${r.steps} | ${r.nfe} | ${r.fd.toFixed(3)} ± ${r.fdStd.toFixed(3)} ` +
        `| ${(100 * r.accuracy).toFixed(1)}% | ${r.secondsPerImage.toFixed(3)} |`,
    ),
  ];
  const sweepTable = [
    '| sampler | CFG | NFE | prompt accuracy | diversity (± s.e.) |',
    '|---|---|---|---|---|',
    ...sweepRows.map(
      (r) =>
        `| ${r.sampler} | ${r.cfg} | ${r.nfe} | ${(100 * r.accuracy).toFixed(1)}% ` +
        `| ${r.diversity.toFixed(3)} ± ${r.diversityStd.toFixed(3)} |`,
    ),
  ];
  const trainedFor = meta.training
    ? ` (UNet trained for ${meta.training.unet_steps} steps of batch ${meta.training.unet_batch}, ` +
      `${meta.training.unet_train_minutes} minutes)`
    : '';
  const trainedOn = meta.training?.trained_on ? ` (on ${meta.training.trained_on})` : '';
  return `# Restart vs baselines on the embedded model

Generated by \`npm run experiment -- restart-vs-baselines${quick ? ' --quick' : ''} --prompts ${P} --seeds ${S} --sets ${R}\` \
on ${meta.date.slice(0, 10)} (${meta.cores} × ${meta.cpu}, Node ${meta.node}, ${meta.minutes.toFixed(1)} minutes).
Model: \`${meta.model.replace(process.cwd() + '/', '')}\`${trainedFor}. Every number comes from images generated by this run; \
the evaluator is a classifier
trained on real procedural images only, and the reference statistics are those of real images (\`evaluator/reference_stats.json\`).

Set-up: ${P} prompts from the evaluator's prompt set (every attribute combination, one in ${stride}), \
${S} seeds per prompt, so ${P * S} images
per point; Frechet distance in the evaluator's ${featureSize ?? ''}-dimensional feature space against real images;
the spread is the standard deviation over ${R} disjoint seed sets. Karras schedule throughout. Restart in the FD part: the explicit
segment \`${JSON.stringify(RESTART_SEGMENTS)}\` on the Karras main grid (steps = main-grid steps). In the CFG sweep, Restart uses the
paper's Stable Diffusion presets keyed by guidance scale (which the paper runs on a DDIM grid; here they are segments on a Karras grid).

## Where our results agree with the paper and where they do not

${lines.join('\n')}

Caveats: the embedded model is tiny and was trained for minutes${trainedOn}; its data distribution (flat shapes on flat
backgrounds) is far simpler than the paper's datasets, and the evaluator's features are not Inception features (FD values are
on the scale of those features, not comparable to published FIDs). With ${P * S} images per point in 64 dimensions the FD
estimate is biased upwards by a similar amount for every sampler; only differences larger than the seed-set spread count, and
smaller ones are reported as not decidable.

## Frechet distance against model evaluations

![FD vs NFE](fd-vs-nfe.png)

${fdTable.join('\n')}

## Prompt accuracy against diversity across CFG scales

Diversity is the mean pairwise distance between the evaluator features of the ${SWEEP_SEEDS} seeds of a prompt, averaged over prompts
(${P} prompts x ${SWEEP_SEEDS} seeds per point).
Prompt accuracy is the fraction of images whose background colour, shape, shape colour and count all match the prompt.

![accuracy vs diversity](accuracy-vs-diversity.png)

${sweepTable.join('\n')}

Raw numbers: \`results.json\`, \`fd-vs-nfe.csv\`, \`accuracy-vs-diversity.csv\`.
`;
}
