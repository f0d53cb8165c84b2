// The Restart paper's claims, decided from the measured rows. Every FD row uses the same seed sets (set r draws
// the same seeds and the same initial noise for every setting) and the same real reference, so two settings are
// compared by their per-set differences: a difference counts only when its mean is larger than its spread (the
// standard deviation of the per-set differences); otherwise the claim is not decidable on this run.
import { mean, std } from '../../src-core/experiments/stats.ts';
import type { Family, FdRow, SweepRow } from './settings.ts';

export interface Verdict {
  claim: string;
  agree: boolean | null;
  evidence: string;
}

export const named = (r: FdRow) => (r.segments ? `${r.sampler} ${r.segments}` : r.sampler);
const describe = (r: FdRow) =>
  `${named(r)} ${r.steps} steps (NFE ${r.nfe}, FD ${r.fd.toFixed(1)} ± ${r.fdStd.toFixed(1)}, accuracy ${pct(r.accuracy)})`;
export const pct = (v: number) => `${(100 * v).toFixed(1)}%`;

/** b.fd - a.fd per seed set: positive when a is closer to the real images. */
export function pairedGap(a: FdRow, b: FdRow): { gap: number; spread: number } {
  const diffs = a.fdRuns.map((fa, r) => b.fdRuns[r] - fa);
  return { gap: mean(diffs), spread: std(diffs) };
}

function compare(claim: string, winner: FdRow | undefined, loser: FdRow | undefined, missing: string): Verdict {
  if (!winner || !loser) return { claim, agree: null, evidence: missing };
  const { gap, spread } = pairedGap(winner, loser);
  if (winner.fdRuns.every((f, r) => f === loser.fdRuns[r]))
    return { claim, agree: null, evidence: `${describe(winner)} made exactly the images of ${describe(loser)}: nothing to compare.` };
  // One seed set has no spread to judge a difference by (std is NaN there): not decidable, whatever the difference.
  const within = !(Math.abs(gap) > spread);
  return {
    claim,
    agree: within ? null : gap > 0,
    evidence:
      `${describe(winner)} against ${describe(loser)}: difference ${gap.toFixed(1)}, ` +
      `spread of the per-set difference ${spread.toFixed(1)}${within ? ' (within the spread)' : ''}.`,
  };
}

export function fdVerdicts(rows: FdRow[]): Verdict[] {
  const best = (pick: (r: FdRow) => boolean) => rows.filter(pick).sort((a, b) => a.fd - b.fd)[0];
  const of =
    (family: Family, maxNfe: number, minNfe = 0) =>
    (r: FdRow) =>
      r.family === family && r.nfe <= maxNfe && r.nfe >= minNfe;
  const out: Verdict[] = [];
  const maxOde = Math.max(...rows.filter((r) => r.family === 'ODE').map((r) => r.nfe));
  out.push(
    compare(
      'With few evaluations (NFE <= 12) ODE samplers beat the SDE sampler.',
      best(of('ODE', 12)),
      best(of('SDE', 12)),
      'No ODE or SDE setting within 12 evaluations.',
    ),
  );
  out.push(
    compare(
      `With many evaluations (NFE >= 40) the SDE sampler beats the best ODE sampler (any NFE up to ${maxOde}).`,
      best(of('SDE', Infinity, 40)),
      best(of('ODE', Infinity)),
      'No SDE setting with 40 or more evaluations.',
    ),
  );
  const forms = [...new Set(rows.filter((r) => r.family === 'Restart').map((r) => r.sampler))];
  for (const budget of [20, 40, 80]) {
    for (const form of forms) {
      const restart = best((r) => r.sampler === form && r.nfe <= budget);
      out.push(
        compare(
          `${form} beats the best ODE sampler within ${budget} evaluations.`,
          restart,
          best(of('ODE', budget)),
          `No ${form} setting within ${budget} evaluations.`,
        ),
      );
    }
  }
  return out;
}

/**
 * The analogue of the paper's Stable Diffusion figure (FID against CLIP score across guidance): at each CFG scale, is
 * Restart's conditional FD lower than every other sampler's, with prompt accuracy at least as high (within 2 points)? Agrees
 * when it is at more than half of the scales and clearly worse at none.
 * The sweep is one seed set, so FD differences count only above `yardstick` (the FD part's mean seed-set spread, scaled
 * by sqrt(images per FD point / images per sweep point)).
 */
export function sweepVerdicts(rows: SweepRow[], yardstick: number): Verdict[] {
  const restart = rows.filter((r) => r.sampler.startsWith('Restart'));
  const others = (cfg: number) => rows.filter((o) => o.cfg === cfg && !o.sampler.startsWith('Restart'));
  let wins = 0,
    losses = 0;
  const notes = restart.map((r) => {
    const bestOther = others(r.cfg).sort((a, b) => a.fd - b.fd)[0];
    const accurate = others(r.cfg).every((o) => r.accuracy >= o.accuracy - 0.02);
    const gap = bestOther.fd - r.fd;
    if (gap > yardstick && accurate) wins++;
    else if (gap < -yardstick) losses++;
    const them = `${bestOther.sampler} ${bestOther.fd.toFixed(1)} (${pct(bestOther.accuracy)})`;
    return `CFG ${r.cfg}: Restart FD ${r.fd.toFixed(1)} (${pct(r.accuracy)}) vs ${them}`;
  });
  const diverse = restart.filter((r) =>
    others(r.cfg).every((o) => r.accuracy >= o.accuracy - 0.02 && r.diversity >= o.diversity - 0.02 * o.diversity),
  ).length;
  return [
    {
      claim: "Restart gives a better conditional FD / prompt accuracy trade-off across CFG scales (the paper's FID vs CLIP score figure).",
      // A verdict needs a clear majority of the scales one way and none the other way.
      agree: losses === 0 && wins > restart.length / 2 ? true : wins === 0 && losses > restart.length / 2 ? false : null,
      evidence:
        `Better by more than ${yardstick.toFixed(1)} at ${wins} of ${restart.length} scales, worse by more at ${losses}: ` +
        notes.join('; ') +
        '.',
    },
    {
      claim: 'Restart gives a better prompt-accuracy / diversity trade-off across CFG scales.',
      agree: diverse === restart.length ? true : diverse === 0 ? false : null,
      evidence:
        `At ${diverse} of ${restart.length} CFG scales Restart is at least as accurate (within 2 points) and at least as diverse ` +
        `(within 2%) as every other sampler at the same scale (it spends ${restart[0]?.nfe ?? '?'} evaluations there against ` +
        `${rows.find((r) => !r.sampler.startsWith('Restart'))?.nfe ?? '?'}).`,
    },
  ];
}

export const verdictLine = (v: Verdict) =>
  `- **${v.agree === null ? 'Not decidable' : v.agree ? 'Agrees' : 'Does not agree'}** — ${v.claim} ${v.evidence}`;

/** Rows whose images equal another row's, set for set (A1111's preset below 20 steps is plain Heun). */
export function sameAs(rows: FdRow[], row: FdRow): FdRow | undefined {
  return rows.find((o) => o !== row && o.nfe === row.nfe && o.fdRuns.every((f, r) => f === row.fdRuns[r]));
}
