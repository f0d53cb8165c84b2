// The Compare view's axis kinds: what an axis can vary, the label it shows and which editor takes its values.
import type { AxisKind } from '../../../src-core/contract/experiments.ts';

export type { AxisKind };

export type AxisEditor = 'choices' | 'numbers' | 'restart' | 'texts';
/** The kinds whose values are typed as numbers. */
export type NumberKind =
  | 'steps'
  | 'cfgScale'
  | 'seed'
  | 'strength'
  | 'clipSkip'
  | 'variationSeed'
  | 'variationStrength'
  | 'eta'
  | 'sNoise'
  | 'scheduleSigmaMin'
  | 'scheduleSigmaMax'
  | 'scheduleRho';
export type TextKind = NumberKind | 'restart' | 'promptSR';

export const AXIS_KINDS: ReadonlyArray<{ kind: AxisKind; label: string; editor: AxisEditor }> = [
  { kind: 'sampler', label: 'Sampler', editor: 'choices' },
  { kind: 'steps', label: 'Steps', editor: 'numbers' },
  { kind: 'cfgScale', label: 'CFG scale', editor: 'numbers' },
  { kind: 'seed', label: 'Seed', editor: 'numbers' },
  { kind: 'restart', label: 'Restart setting', editor: 'restart' },
  { kind: 'schedule', label: 'Schedule', editor: 'choices' },
  { kind: 'promptSR', label: 'Prompt S/R', editor: 'texts' },
  { kind: 'strength', label: 'Denoising strength', editor: 'numbers' },
  // A1111's X/Y/Z plot names.
  { kind: 'clipSkip', label: 'Clip skip', editor: 'numbers' },
  { kind: 'variationSeed', label: 'Var. seed', editor: 'numbers' },
  { kind: 'variationStrength', label: 'Var. strength', editor: 'numbers' },
  { kind: 'eta', label: 'Eta', editor: 'numbers' },
  { kind: 'sNoise', label: 'Sigma noise', editor: 'numbers' },
  { kind: 'scheduleSigmaMin', label: 'Schedule min sigma', editor: 'numbers' },
  { kind: 'scheduleSigmaMax', label: 'Schedule max sigma', editor: 'numbers' },
  { kind: 'scheduleRho', label: 'Schedule rho', editor: 'numbers' },
  { kind: 'noiseSource', label: 'RNG source', editor: 'choices' },
];

export function axisEditor(kind: AxisKind): AxisEditor {
  return AXIS_KINDS.find((k) => k.kind === kind)?.editor ?? 'numbers';
}

export function axisKindLabel(kind: AxisKind): string {
  return AXIS_KINDS.find((k) => k.kind === kind)?.label ?? kind;
}
