// The Compare view's lines about the grid's base request: the prompt, seed and CFG, then the sampler, steps,
// schedule, size and A1111's extras, each left out or said to come from the axis when an axis varies it.
import type { AxisKind } from '../../../src-core/contract/experiments.ts';
import type { GenerateRequestInput } from '../../../src-core/contract/generate.ts';

function quotePrompt(prompt: string, max = 48): string {
  const flat = prompt.replace(/\s+/g, ' ').trim();
  if (!flat) return '(no prompt)';
  return `“${flat.length > max ? `${flat.slice(0, max - 1)}…` : flat}”`;
}

/** "“a red circle” · seed 7 · CFG 7" (what an axis varies says so instead). */
export function baseSummary(base: GenerateRequestInput, options: { randomSeed: boolean; axes: readonly AxisKind[] }): string {
  const prompt = options.axes.includes('promptSR') ? `${quotePrompt(base.prompt)} (S/R from the axis)` : quotePrompt(base.prompt);
  const seed = options.axes.includes('seed') ? 'seed from the axis' : options.randomSeed ? 'random seed' : `seed ${base.seed}`;
  const cfg = options.axes.includes('cfgScale') ? 'CFG from the axis' : `CFG ${base.cfgScale ?? 7}`;
  return [prompt, seed, cfg].join(' · ');
}

/**
 * "Euler · 20 steps · karras · 512×512", then A1111's Clip skip, variation and seed resize where set ("Clip skip 2 ·
 * Var. seed 100 · Var. strength 0.3 · Seed resize from 256×384"), leaving out what an axis varies. `randomVariationSeed`:
 * the form's Variation seed is -1 (the base then holds a stand-in).
 */
export function baseDetails(
  base: GenerateRequestInput,
  axes: readonly AxisKind[],
  samplerName: (name: string) => string = (n) => n,
  options: { randomVariationSeed?: boolean } = {},
): string {
  const parts: string[] = [];
  if (!axes.includes('sampler') && !axes.includes('restart')) parts.push(samplerName(base.sampler ?? 'euler'));
  if (!axes.includes('steps')) parts.push(`${base.steps ?? 20} steps`);
  if (!axes.includes('schedule')) parts.push(base.schedule === 'normal' ? 'Normal' : 'Karras'); // the UI's labels
  if (base.width && base.height) parts.push(`${base.width}×${base.height}`);
  return [...parts, ...a1111Details(base, axes, options.randomVariationSeed ?? false)].join(' · ');
}

/** Clip skip (1, the last layer, is the default), variation (on at a strength over 0 or with a strength axis), seed resize. */
function a1111Details(base: GenerateRequestInput, axes: readonly AxisKind[], randomVariationSeed: boolean): string[] {
  const parts: string[] = [];
  if (!axes.includes('clipSkip') && base.clipSkip !== undefined && base.clipSkip > 1) parts.push(`Clip skip ${base.clipSkip}`);
  const strengthAxis = axes.includes('variationStrength');
  if ((base.variationStrength ?? 0) > 0 || strengthAxis) {
    if (!axes.includes('variationSeed') && base.variationSeed !== undefined)
      parts.push(randomVariationSeed ? 'random Var. seed' : `Var. seed ${base.variationSeed}`);
    if (!strengthAxis) parts.push(`Var. strength ${base.variationStrength}`);
  }
  if (base.seedResizeFromWidth && base.seedResizeFromHeight)
    parts.push(`Seed resize from ${base.seedResizeFromWidth}×${base.seedResizeFromHeight}`);
  if (base.etaNoiseSeedDelta) parts.push(`ENSD ${base.etaNoiseSeedDelta}`);
  return parts;
}
