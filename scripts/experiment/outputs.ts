// The run's files besides the report: plots (PNG), raw numbers (results.json, CSV).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderLinePlot } from '../../src-core/experiments/plot.ts';
import type { Results } from './settings.ts';

/** A CSV with one column per entry of `columns` (header: the key). */
function csv<R>(rows: readonly R[], columns: Record<string, (row: R) => string | number>): string {
  const cells = Object.values(columns);
  return [Object.keys(columns).join(','), ...rows.map((r) => cells.map((c) => c(r)).join(','))].join('\n') + '\n';
}

export async function writeOutputs(out: string, results: Results): Promise<void> {
  const { meta, fd, sweep } = results;
  const images = meta.prompts * meta.seedsPerPrompt;
  writeFileSync(
    join(out, 'fd-vs-nfe.png'),
    await renderLinePlot({
      title:
        `Conditional FD vs model evaluations (CFG ${meta.fdCfg}, ${images} images per point, ` +
        `floor ${meta.floor.toFixed(1)}, ±std over ${meta.seedSets} seed sets)`,
      x: { field: 'nfe', title: 'model evaluations (NFE)', log: true },
      y: { field: 'fd', title: 'FD to real images of the same prompts (evaluator features)' },
      series: 'sampler',
      yError: 'fdStd',
      rows: fd.map(({ fdRuns: _, ...r }) => r),
    }),
  );
  writeFileSync(
    join(out, 'fd-vs-accuracy.png'),
    await renderLinePlot({
      title:
        `Conditional FD vs prompt accuracy across CFG scales ` +
        `(${meta.sweepSteps} steps, ${meta.prompts * meta.sweepSeeds} images per point)`,
      x: { field: 'accuracy', title: 'prompt accuracy' },
      y: { field: 'fd', title: 'FD to real images of the same prompts' },
      series: 'sampler',
      pointLabel: 'cfg',
      rows: sweep,
    }),
  );
  writeFileSync(
    join(out, 'accuracy-vs-diversity.png'),
    await renderLinePlot({
      title:
        `Prompt accuracy vs diversity across CFG scales ` +
        `(${meta.sweepSteps} steps, ${meta.prompts} prompts x ${meta.sweepSeeds} seeds)`,
      x: { field: 'diversity', title: 'diversity (mean pairwise feature distance between seeds)' },
      y: { field: 'accuracy', title: 'prompt accuracy' },
      series: 'sampler',
      pointLabel: 'cfg',
      rows: sweep,
    }),
  );
  writeFileSync(join(out, 'results.json'), JSON.stringify(results, null, 2));
  const f4 = (v: number) => v.toFixed(4);
  writeFileSync(
    join(out, 'fd-vs-nfe.csv'),
    csv(fd, {
      sampler: (r) => JSON.stringify(r.segments ? `${r.sampler} ${r.segments}` : r.sampler),
      family: (r) => r.family,
      steps: (r) => r.steps,
      nfe: (r) => r.nfe,
      fd: (r) => f4(r.fd),
      fd_std: (r) => f4(r.fdStd),
      fd_per_set: (r) => JSON.stringify(r.fdRuns.map(f4).join(' ')),
      accuracy: (r) => f4(r.accuracy),
      seconds_per_image: (r) => f4(r.secondsPerImage),
    }),
  );
  writeFileSync(
    join(out, 'accuracy-vs-diversity.csv'),
    csv(sweep, {
      sampler: (r) => JSON.stringify(r.sampler),
      cfg: (r) => r.cfg,
      nfe: (r) => r.nfe,
      fd: (r) => f4(r.fd),
      accuracy: (r) => f4(r.accuracy),
      diversity: (r) => f4(r.diversity),
      diversity_se: (r) => f4(r.diversityStd),
    }),
  );
}
