// The comparison grid's words as the user reads them: axis values with the UI's labels ("Euler a", not
// "euler_ancestral"), the header of the exported PNG (prompt, seed, model, axes) and its metadata.
import { axisLabel } from '../../../src-core/contract/experiments.ts';
import { axisKindLabel, type AxisKind } from './axis-kinds.ts';
import type { GridRequestInput } from './grid-request.ts';
import { scheduleChoices } from './options.ts';

type SamplerName = (name: string) => string;

export function axisValueLabel(kind: AxisKind, value: unknown, samplerName: SamplerName): string {
  switch (kind) {
    case 'sampler':
      return samplerName(String(value));
    case 'schedule':
      return scheduleChoices(null).find((c) => c.value === value)?.label ?? String(value);
    case 'steps':
      return `${value} steps`;
    case 'cfgScale':
      return `CFG ${value}`;
    case 'seed':
      return `seed ${value}`;
    case 'strength':
      return `denoising ${value}`;
    case 'clipSkip':
    case 'variationSeed':
    case 'variationStrength':
    case 'eta':
    case 'sNoise':
    case 'scheduleSigmaMin':
    case 'scheduleSigmaMax':
    case 'scheduleRho':
    case 'noiseSource':
      // A1111's legend: "Clip skip: 2", "Var. seed: 100", "Var. strength: 0.3", "Eta: 0.5", "RNG source: CPU".
      return axisLabel(kind, value);
    case 'restart': {
      const r = value as { preset?: string; segments?: unknown };
      return r.preset ? `Restart: ${r.preset} preset` : `Restart: ${JSON.stringify(r.segments)}`;
    }
    default:
      return String(value);
  }
}

/** Column and row labels (one empty row without a Y axis). */
export function displayHeaders(
  request: Pick<GridRequestInput, 'x' | 'y'>,
  samplerName: SamplerName,
): { columns: string[]; rows: string[] } {
  const labels = (axis: GridRequestInput['x']) => (axis.values as unknown[]).map((v) => axisValueLabel(axis.kind, v, samplerName));
  return { columns: labels(request.x), rows: request.y ? labels(request.y) : [''] };
}

export interface GridExportFacts {
  model: string | null;
  samplerName: SamplerName;
}

function axesLine(request: Pick<GridRequestInput, 'x' | 'y'>): string {
  const columns = `Columns: ${axisKindLabel(request.x.kind)}`;
  return request.y ? `${columns} · Rows: ${axisKindLabel(request.y.kind)}` : columns;
}

/** The lines over the exported grid: what every cell shares, then what the axes vary. */
export function gridExportHeader(request: GridRequestInput, facts: GridExportFacts): string[] {
  const base = request.base;
  const lines = [`Prompt: ${base.prompt}`];
  if (base.negativePrompt) lines.push(`Negative prompt: ${base.negativePrompt}`);
  // What an axis varies is left out: the columns and rows say it.
  const varies = (...kinds: AxisKind[]) => kinds.includes(request.x.kind) || (request.y ? kinds.includes(request.y.kind) : false);
  const shared = [
    varies('seed') ? null : `Seed ${base.seed}`,
    facts.model ? `Model ${facts.model}` : null,
    varies('sampler', 'restart') ? null : facts.samplerName(base.sampler ?? 'euler'),
    varies('steps') ? null : `${base.steps ?? 20} steps`,
    varies('cfgScale') ? null : `CFG ${base.cfgScale ?? 7}`,
    base.width && base.height ? `${base.width}×${base.height}` : null,
    ...variationFacts(base, varies),
  ];
  lines.push(shared.filter(Boolean).join(' · '));
  lines.push(axesLine(request));
  return lines;
}

/** Clip skip and variation as the cells share them (a Var. strength axis turns them all towards one variation seed). */
function variationFacts(base: GridRequestInput['base'], varies: (...kinds: AxisKind[]) => boolean): Array<string | null> {
  const strength = base.variationStrength ?? 0;
  const varied = strength > 0 || varies('variationStrength');
  return [
    !varies('clipSkip') && base.clipSkip !== undefined && base.clipSkip > 1 ? `Clip skip ${base.clipSkip}` : null,
    varied && !varies('variationSeed') && base.variationSeed !== undefined ? `Var. seed ${base.variationSeed}` : null,
    !varies('variationStrength') && strength > 0 ? `Var. strength ${strength}` : null,
  ];
}

interface MetadataCell {
  x: number;
  y: number;
  xLabel: string;
  yLabel: string;
  entry: { seed: number; parameters: string };
}

/**
 * Text chunks for the exported PNG: "parameters" as A1111 writes for its own grids (the first cell's),
 * and "restart-studio-grid", a JSON of the request's prompt, seed, model, labels and every cell's parameters.
 */
export function gridMetadata(request: GridRequestInput, cells: readonly MetadataCell[], facts: GridExportFacts): Record<string, string> {
  const ordered = [...cells].sort((a, b) => a.y - b.y || a.x - b.x);
  const { columns, rows } = displayHeaders(request, facts.samplerName);
  const json = {
    prompt: request.base.prompt,
    negativePrompt: request.base.negativePrompt ?? '',
    seed: request.base.seed,
    model: facts.model,
    x: request.x,
    y: request.y ?? null,
    columns,
    rows: request.y ? rows : [],
    cells: ordered.map((c) => ({ x: c.x, y: c.y, seed: c.entry.seed, parameters: c.entry.parameters })),
  };
  const texts: Record<string, string> = { 'restart-studio-grid': JSON.stringify(json) };
  if (ordered[0]) texts.parameters = ordered[0].entry.parameters;
  return texts;
}
