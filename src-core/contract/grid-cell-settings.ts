// The A1111 settings of one grid cell that its label may not show (Clip skip, variation seed and strength, seed
// resize, eta, sigma noise, the schedule's sigma range and rho, the RNG source), for the CSV and JSON exports: the
// engine reads them off the cell's request, the renderer off the grid's base and axes. No Node or engine imports (the
// renderer uses this file).
import type { GenerateRequestInput } from './generate.ts';
import { RNG_NAMES } from './grid-setting-axes.ts';

type SettingsFields = Pick<
  GenerateRequestInput,
  'clipSkip' | 'variationSeed' | 'variationStrength' | 'seedResizeFromWidth' | 'seedResizeFromHeight' | SamplingSettingKey
>;

/** The sampling settings a cell carries as the request has them (absent: the sampler's or model's own). */
const SAMPLING_SETTING_KEYS = ['eta', 'sNoise', 'scheduleSigmaMin', 'scheduleSigmaMax', 'scheduleRho'] as const;
type SamplingSettingKey = (typeof SAMPLING_SETTING_KEYS)[number] | 'noiseSource';

/** The settings a cell used; a setting that is off (or left to its default) is absent. */
export interface CellSettings {
  clipSkip?: number;
  variationSeed?: number;
  variationStrength?: number;
  seedResizeFromWidth?: number;
  seedResizeFromHeight?: number;
  eta?: number;
  sNoise?: number;
  scheduleSigmaMin?: number;
  scheduleSigmaMax?: number;
  scheduleRho?: number;
  /** Absent for the default generator. */
  noiseSource?: 'torch-cpu' | 'torch-cuda';
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
  for (const key of SAMPLING_SETTING_KEYS) if (request[key] !== undefined) settings[key] = request[key];
  if (request.noiseSource && request.noiseSource !== 'default') settings.noiseSource = request.noiseSource;
  return settings;
}

const AXIS_FIELDS = new Set<string>(['clipSkip', 'variationSeed', 'variationStrength', ...SAMPLING_SETTING_KEYS, 'noiseSource']);

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
export const CELL_SETTINGS_COLUMNS = [
  'clip_skip',
  'variation_seed',
  'variation_seed_strength',
  'seed_resize_from_w',
  'seed_resize_from_h',
  'eta',
  'sigma_noise',
  'schedule_min_sigma',
  'schedule_max_sigma',
  'schedule_rho',
  'rng',
];

/** The CSV fields of CELL_SETTINGS_COLUMNS: empty where the cell does not use the setting. */
export function cellSettingsFields(settings: CellSettings): string[] {
  return [
    settings.clipSkip,
    settings.variationSeed,
    settings.variationStrength,
    settings.seedResizeFromWidth,
    settings.seedResizeFromHeight,
    ...SAMPLING_SETTING_KEYS.map((key) => settings[key]),
    // A1111's RNG names, as its PNG's "RNG" key writes them.
    settings.noiseSource && RNG_NAMES[settings.noiseSource],
  ].map((v) => (v === undefined ? '' : String(v)));
}
