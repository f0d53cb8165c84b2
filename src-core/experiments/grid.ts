// Comparison grids: the same prompt and seed in every cell (unless seed is an axis), one or two axes
// among sampler, steps, CFG scale, seed, restart setting, schedule, prompt search/replace, denoising
// strength (img2img's, or hires fix's), clip skip, variation seed and variation strength, eta, sigma noise, the
// schedule's min sigma, max sigma and rho, and the RNG source (A1111's).
// Each prompt is encoded once; img2img's source is encoded per cell.
import { RequestError, type GenerateRequest } from '../contract/generate.ts';
import { axisLabel, type GridAxis, type GridRequest } from '../contract/experiments.ts';
import type { TextConditioning } from '../guidance/unet.ts';
import { clipSkipIgnoredBecause } from '../model/clip-skip.ts';
import type { StableDiffusionModel } from '../model/model.ts';
import { generate, planFor, type GenerateHooks } from '../pipeline/txt2img.ts';
import { CELL_SETTINGS_COLUMNS, cellSettings, cellSettingsFields } from '../contract/grid-cell-settings.ts';

export interface GridCell {
  x: number;
  y: number;
  xLabel: string;
  yLabel: string;
  request: GenerateRequest;
  png: Buffer;
  parameters: string;
  seed: number;
  evaluations: number;
  /** Wall time of the cell: sampling, decoding and PNG encoding (the prompt encodings are shared). */
  seconds: number;
}

function apply(request: GenerateRequest, axis: GridAxis | undefined, index: number): GenerateRequest {
  if (!axis) return request;
  const value = axis.values[index];
  if (axis.kind === 'restart') return { ...request, sampler: 'restart', restart: value as GenerateRequest['restart'] };
  if (axis.kind === 'promptSR') {
    // Every occurrence of the first value, in both prompts, as A1111's Prompt S/R does.
    const [search] = axis.values as string[];
    const replace = (text: string) => text.split(search).join(value as string);
    return { ...request, prompt: replace(request.prompt), negativePrompt: replace(request.negativePrompt) };
  }
  if (axis.kind === 'strength') {
    // img2img's strength, or the second pass's when the base runs hires fix.
    return request.initImage || !request.hires
      ? { ...request, strength: value as number }
      : { ...request, hires: { ...request.hires, strength: value as number } };
  }
  // The other kinds (clip skip, variation, eta, sNoise, the schedule settings, noiseSource) are the request's field of that name.
  return { ...request, [axis.kind]: value };
}

export function gridRequests(grid: GridRequest): Array<{ x: number; y: number; request: GenerateRequest }> {
  const rows = grid.y ? grid.y.values.length : 1;
  const cells: Array<{ x: number; y: number; request: GenerateRequest }> = [];
  for (let y = 0; y < rows; y++) {
    for (let x = 0; x < grid.x.values.length; x++) {
      cells.push({ x, y, request: apply(apply({ ...grid.base, count: 1, batchSize: 1 }, grid.x, x), grid.y, y) });
    }
  }
  return cells;
}

/**
 * Refuses, before any work, an axis the model ignores: a clip-skip axis on SD 2 or SDXL would make every column
 * the same image (A1111 ignores Clip skip there; a single request only gets a note).
 */
export function checkGridOnModel(model: StableDiffusionModel, grid: GridRequest): void {
  checkCellSigmaRanges(model, grid);
  if (grid.x.kind !== 'clipSkip' && grid.y?.kind !== 'clipSkip') return;
  const ignored = clipSkipIgnoredBecause(model);
  if (ignored) {
    throw new RequestError(
      `a Clip skip axis would make the same image in every cell: ${model.info.name} is ${ignored}, which ignores Clip skip ` +
        '(as in A1111); Clip skip applies to SD 1.x models',
    );
  }
}

/**
 * With a schedule min or max sigma axis, each cell's schedule before any work: the range a cell does not set is the
 * model's, which the request's own check cannot know (a max sigma axis at or below the model's min sigma).
 */
function checkCellSigmaRanges(model: StableDiffusionModel, grid: GridRequest): void {
  const kinds: string[] = [grid.x.kind, grid.y?.kind ?? ''];
  if (!kinds.includes('scheduleSigmaMin') && !kinds.includes('scheduleSigmaMax')) return;
  for (const { x, y, request } of gridRequests(grid)) {
    try {
      planFor(model, request);
    } catch (error) {
      const cell = [axisLabel(grid.x.kind, grid.x.values[x]), ...(grid.y ? [axisLabel(grid.y.kind, grid.y.values[y])] : [])];
      throw new RequestError(`the cell "${cell.join(', ')}" cannot run: ${sigmaRangeReason(model, request) ?? (error as Error).message}`);
    }
  }
}

/** In words, a cell's sigma range that is no range: a bound the request leaves out is the model's. */
function sigmaRangeReason(model: StableDiffusionModel, request: GenerateRequest): string | undefined {
  const shown = (sigma: number) => Number(sigma.toPrecision(4));
  const [min, minFrom] =
    request.scheduleSigmaMin === undefined
      ? [model.schedule.sigmaMin, "the model's min sigma"]
      : [request.scheduleSigmaMin, 'its min sigma'];
  const [max, maxFrom] =
    request.scheduleSigmaMax === undefined
      ? [model.schedule.sigmaMax, "the model's max sigma"]
      : [request.scheduleSigmaMax, 'its max sigma'];
  if (max > min) return undefined;
  return `${maxFrom} ${shown(max)} is not above ${minFrom} ${shown(min)}: the schedule's max sigma must be above its min sigma`;
}

export async function runGrid(
  model: StableDiffusionModel,
  grid: GridRequest,
  hooks: Omit<GenerateHooks, 'encodings'> & { onCell?: (cell: GridCell, done: number, total: number) => void } = {},
): Promise<GridCell[]> {
  checkGridOnModel(model, grid);
  const encodings = new Map<string, TextConditioning>();
  const planned = gridRequests(grid);
  const cells: GridCell[] = [];
  for (const { x, y, request } of planned) {
    const result = await generate(model, request, { ...hooks, encodings });
    const image = result.images[0];
    const cell: GridCell = {
      x,
      y,
      xLabel: axisLabel(grid.x.kind, grid.x.values[x]),
      yLabel: grid.y ? axisLabel(grid.y.kind, grid.y.values[y]) : '',
      request: result.request,
      png: image.png,
      parameters: image.parameters,
      seed: image.seed,
      evaluations: result.evaluations,
      // The cell's own work: the first cell of a prompt would otherwise carry the encoding every later cell reuses.
      seconds: (result.timings.totalMs - result.timings.textEncoderMs) / 1000,
    };
    cells.push(cell);
    hooks.onCell?.(cell, cells.length, planned.length);
  }
  return cells;
}

/** The numbers of a grid as CSV (one row per cell), with the A1111 settings each cell used (empty where off). */
export function gridCsv(cells: GridCell[]): string {
  const quote = (s: string) => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
  const rows = cells.map((c) =>
    [
      c.x,
      c.y,
      quote(c.xLabel),
      quote(c.yLabel),
      c.request.sampler,
      c.request.steps,
      c.request.cfgScale,
      c.seed,
      c.evaluations,
      c.seconds.toFixed(4),
      ...cellSettingsFields(cellSettings(c.request)),
    ].join(','),
  );
  const header = ['x,y,x_label,y_label,sampler,steps,cfg_scale,seed,nfe,seconds', ...CELL_SETTINGS_COLUMNS].join(',');
  return [header, ...rows].join('\n') + '\n';
}
