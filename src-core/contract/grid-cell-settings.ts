// The A1111 settings of one grid cell that its label may not show (Clip skip, variation seed and strength, seed
// resize), for the CSV and JSON exports: the engine reads them off the cell's request, the renderer off the grid's base
// and axes. No Node or engine imports (the renderer uses this file).
import type { GenerateRequestInput } from './generate.ts';

type SettingsFields = Pick<
  GenerateRequestInput,
  'clipSkip' | 'variationSeed' | 'variationStrength' | 'seedResizeFromWidth' | 'seedResizeFromHeight'
>;

/** The settings a cell used; a setting that is off (or left to its default) is absent. */
export interface CellSettings {
  clipSkip?: number;
  variationSeed?: number;
  variationStrength?: number;
  seedResizeFromWidth?: number;
  seedResizeFromHeight?: number;
}

/** A grid's cells make one image each, so the image's variation seed is the request's (image k uses it + k). */
export function cellSettings(request: SettingsFields): CellSettings {
  const settings: CellSettings = {};
  if (request.clipSkip !== undefined) settings.clipSkip = request.clipSkip;
  // Strength 0 (or absent) is off, as in A1111: the variation seed is then not used.
  if (request.variationStrength && request.variationSeed !== undefined) {
    settings.variationSeed = request.variationSeed;
    settings.variationStrength = request.variationStrength;
  }
  // Either side 0 is off.
  if (request.seedResizeFromWidth && request.seedResizeFromHeight) {
    settings.seedResizeFromWidth = request.seedResizeFromWidth;
    settings.seedResizeFromHeight = request.seedResizeFromHeight;
  }
  return settings;
}

const AXIS_FIELDS = new Set<string>(['clipSkip', 'variationSeed', 'variationStrength']);

/** The cell at (x, y) of a grid: its base with the axes' values for these fields (the engine's gridRequests does the same). */
export function gridCellSettings(
  grid: { base: SettingsFields; x: { kind: string; values: readonly unknown[] }; y?: { kind: string; values: readonly unknown[] } },
  x: number,
  y: number,
): CellSettings {
  const request: Record<string, unknown> = { ...grid.base };
  for (const [axis, index] of [
    [grid.x, x],
    [grid.y, y],
  ] as const) {
    if (axis && AXIS_FIELDS.has(axis.kind)) request[axis.kind] = axis.values[index];
  }
  return cellSettings(request as SettingsFields);
}

/** A1111's names (its infotext's, snake_case; seed resize as its seed_resize_from_w/h), in the CSV's order. */
export const CELL_SETTINGS_COLUMNS = ['clip_skip', 'variation_seed', 'variation_seed_strength', 'seed_resize_from_w', 'seed_resize_from_h'];

/** The CSV fields of CELL_SETTINGS_COLUMNS: empty where the cell does not use the setting. */
export function cellSettingsFields(settings: CellSettings): string[] {
  return [
    settings.clipSkip,
    settings.variationSeed,
    settings.variationStrength,
    settings.seedResizeFromWidth,
    settings.seedResizeFromHeight,
  ].map((v) => (v === undefined ? '' : String(v)));
}
