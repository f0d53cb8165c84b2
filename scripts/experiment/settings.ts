// What `npm run experiment -- restart-vs-baselines` measures: the sampler settings of the FD-against-NFE part
// (points chosen at the budgets the paper's claims name: <= 20, 40 and 80 evaluations) and of the CFG sweep,
// and the shapes of the numbers it stores in results.json.
import type { GenerateRequestInput, RestartSettings } from '../../src-core/contract/generate.ts';

export type Family = 'ODE' | 'SDE' | 'Restart';

export interface Setting {
  label: string;
  family: Family;
  sampler: GenerateRequestInput['sampler'];
  steps: number;
  restart?: RestartSettings;
  /** The paper form's segments, as written in the report. */
  segments?: string;
}

/** The paper's form: one segment [N_r, K, t_min, t_max] on the Karras main grid, more restarts for bigger budgets. */
const paper = (steps: number, k: number): Setting => ({
  label: 'Restart (paper segments)',
  segments: `[[3,${k},0.1,2]]`,
  family: 'Restart',
  sampler: 'restart',
  steps,
  restart: { segments: [[3, k, 0.1, 2]] },
});
/** AUTOMATIC1111's preset: plain Heun below 20 steps, restart passes between sigma 0.1 and 2 from 20 steps on. */
const a1111 = (steps: number): Setting => ({
  label: 'Restart (A1111 preset)',
  family: 'Restart',
  sampler: 'restart',
  steps,
  restart: { preset: 'a1111' },
});
const plain = (label: string, family: Family, sampler: GenerateRequestInput['sampler'], steps: number[]): Setting[] =>
  steps.map((s) => ({ label, family, sampler, steps: s }));

export function fdSettings(quick: boolean): Setting[] {
  if (quick) return [...plain('Euler', 'ODE', 'euler', [10]), ...plain('Euler a', 'SDE', 'euler_ancestral', [10]), paper(6, 2), a1111(20)];
  return [
    ...plain('Heun', 'ODE', 'heun', [10]),
    ...plain('DPM++ 2M', 'ODE', 'dpmpp_2m', [10, 20]),
    ...plain('Euler a', 'SDE', 'euler_ancestral', [10, 40]),
    paper(6, 2),
    paper(12, 4),
    paper(24, 8),
    a1111(10),
    a1111(20),
    a1111(40),
  ];
}

export interface SweepSetting {
  label: string;
  sampler: GenerateRequestInput['sampler'];
  restart?: RestartSettings;
}
export const SWEEP_SETTINGS: SweepSetting[] = [
  { label: 'DPM++ 2M', sampler: 'dpmpp_2m' },
  { label: 'Restart (paper SD preset)', sampler: 'restart', restart: { preset: 'sd' } },
];
export const sweepScales = (quick: boolean) => (quick ? [2, 8] : [2, 3, 5, 8]);
export const FD_CFG = 3;
export const SWEEP_STEPS = 20;

export type FdRow = {
  sampler: string;
  family: Family;
  segments?: string;
  steps: number;
  nfe: number;
  /** Same-prompt conditional FD: mean and std over the seed sets, and each set's value (sets share their seeds across rows). */
  fd: number;
  fdStd: number;
  fdRuns: number[];
  accuracy: number;
  secondsPerImage: number;
};
export type SweepRow = {
  sampler: string;
  cfg: number;
  nfe: number;
  accuracy: number;
  diversity: number;
  diversityStd: number;
  fd: number;
};
export interface Meta {
  date: string;
  model: string;
  training: { unet_steps?: number; unet_batch?: number | string; unet_train_minutes?: number; trained_on?: string } | null;
  cpu?: string;
  cores: number;
  node: string;
  prompts: number;
  /** Distance between chosen prompts in the evaluator's prompt set (every `stride`-th one). */
  stride: number;
  seedsPerPrompt: number;
  seedSets: number;
  sweepSeeds: number;
  fdCfg: number;
  sweepSteps: number;
  featureSize: number;
  /** Real-vs-real FD of the same prompts and counts: the FD part's and the sweep's. */
  floor: number;
  sweepFloor: number;
  quick: boolean;
  minutes: number;
}
export interface Results {
  meta: Meta;
  fd: FdRow[];
  sweep: SweepRow[];
}
