// The run's files besides the report: plots (PNG), raw numbers (results.json, CSV).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderLinePlot } from '../../src-core/experiments/plot.ts';
import type { Results } from './settings.ts';

const csv = (header: string, rows: Array<Array<string | number>>) => [header, ...rows.map((r) => r.join(','))].join('\n') + '\n';

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
  writeFileSync(
    join(out, 'fd-vs-nfe.csv'),
    csv(
      'sampler,family,steps,nfe,fd,fd_std,fd_per_set,accuracy,seconds_per_image',
      fd.map((r) => [
        JSON.stringify(r.sampler),
        r.family,
        r.steps,
        r.nfe,
        r.fd.toFixed(4),
        r.fdStd.toFixed(4),
        JSON.stringify(r.fdRuns.map((f) => f.toFixed(4)).join(' ')),
        r.accuracy.toFixed(4),
        r.secondsPerImage.toFixed(4),
      ]),
    ),
  );
  writeFileSync(
    join(out, 'accuracy-vs-diversity.csv'),
    csv(
      'sampler,cfg,nfe,fd,accuracy,diversity,diversity_se',
      sweep.map((r) => [
        JSON.stringify(r.sampler),
        r.cfg,
        r.nfe,
        r.fd.toFixed(4),
        r.accuracy.toFixed(4),
        r.diversity.toFixed(4),
        r.diversityStd.toFixed(4),
      ]),
    ),
  );
}
