// Choices for the pickers, from app.info when the engine told us, with the contract's names as
// a fallback before it answered.
import type { AppInfo } from '../../../src-core/contract/api.ts';
import { NOISE_SOURCE_CHOICES, SAMPLER_CHOICES, SAMPLER_LABELS, SCHEDULE_CHOICES } from '../../../src-core/contract/generate.ts';
import type { NoiseSourceName, SamplerName, ScheduleName } from './form.ts';

export interface Choice<T extends string> {
  value: T;
  label: string;
}

const SCHEDULE_LABELS: Record<ScheduleName, string> = {
  karras: 'Karras',
  normal: 'Normal',
  exponential: 'Exponential',
  polyexponential: 'Polyexponential',
  sgm_uniform: 'SGM Uniform',
  simple: 'Simple',
  kl_optimal: 'KL Optimal',
  align_your_steps: 'Align Your Steps',
  beta: 'Beta',
};

const NOISE_LABELS: Record<NoiseSourceName, string> = {
  default: 'Default',
  'torch-cpu': 'A1111 CPU',
  'torch-cuda': 'A1111 GPU / NV',
};

function known<T extends string>(choices: readonly T[], v: string): v is T {
  return (choices as readonly string[]).includes(v);
}

export function samplerChoices(info: AppInfo | null): Choice<SamplerName>[] {
  const listed = (info?.samplers ?? []).filter((s) => known(SAMPLER_CHOICES, s.name));
  if (listed.length === 0) return SAMPLER_CHOICES.map((value) => ({ value, label: SAMPLER_LABELS[value] }));
  return listed.map((s) => ({ value: s.name as SamplerName, label: s.label || SAMPLER_LABELS[s.name as SamplerName] }));
}

export function scheduleChoices(info: AppInfo | null): Choice<ScheduleName>[] {
  const listed = (info?.schedules ?? []).filter((s): s is ScheduleName => known(SCHEDULE_CHOICES, s));
  return (listed.length ? listed : [...SCHEDULE_CHOICES]).map((value) => ({ value, label: SCHEDULE_LABELS[value] }));
}

export function noiseSourceChoices(info: AppInfo | null): Choice<NoiseSourceName>[] {
  const listed = (info?.noiseSources ?? []).filter((s): s is NoiseSourceName => known(NOISE_SOURCE_CHOICES, s));
  return (listed.length ? listed : [...NOISE_SOURCE_CHOICES]).map((value) => ({ value, label: NOISE_LABELS[value] }));
}

export function samplerLabel(info: AppInfo | null, name: string): string {
  return samplerChoices(info).find((c) => c.value === name)?.label ?? name;
}
