// The grid's CSV export names each cell's A1111 settings (Clip skip, variation seed and strength, seed resize) so a
// cell can be read back from it; a setting that is off stays empty. The renderer's JSON export reads the same settings
// off the grid's base and axes (gridCellSettings), which must agree with the engine's cells.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GridRequestSchema } from '../contract/experiments.ts';
import { gridCsv, gridRequests, type GridCell } from './grid.ts';
import { cellSettingsFields, gridCellSettings } from '../contract/grid-cell-settings.ts';

function cells(input: unknown): GridCell[] {
  return gridRequests(GridRequestSchema.parse(input)).map(({ x, y, request }) => ({
    x,
    y,
    xLabel: `x${x}`,
    yLabel: `y${y}`,
    request,
    png: Buffer.alloc(0),
    parameters: '',
    seed: request.seed,
    evaluations: request.steps,
    seconds: 0.5,
  }));
}

const header =
  'x,y,x_label,y_label,sampler,steps,cfg_scale,seed,nfe,seconds,' +
  'clip_skip,variation_seed,variation_seed_strength,seed_resize_from_w,seed_resize_from_h,' +
  'eta,sigma_noise,schedule_min_sigma,schedule_max_sigma,schedule_rho,rng';

test('CSV: clip skip, variation seed and strength, and seed resize of each cell, empty where not used', () => {
  const grid = {
    base: {
      prompt: 'a red circle',
      seed: 3,
      steps: 4,
      cfgScale: 5,
      variationSeed: 100,
      seedResizeFromWidth: 256,
      seedResizeFromHeight: 384,
    },
    x: { kind: 'variationStrength', values: [0, 0.25] },
    y: { kind: 'clipSkip', values: [1, 2] },
  };
  assert.deepEqual(gridCsv(cells(grid)).split('\n'), [
    header,
    // Strength 0: no variation, so no variation seed either.
    '0,0,x0,y0,euler,4,5,3,4,0.5000,1,,,256,384,,,,,,',
    '1,0,x1,y0,euler,4,5,3,4,0.5000,1,100,0.25,256,384,,,,,,',
    '0,1,x0,y1,euler,4,5,3,4,0.5000,2,,,256,384,,,,,,',
    '1,1,x1,y1,euler,4,5,3,4,0.5000,2,100,0.25,256,384,,,,,,',
    '',
  ]);
  const plain = { base: { prompt: 'a red circle', seed: 3, steps: 4, cfgScale: 5, seedResizeFromWidth: 0, seedResizeFromHeight: 384 } };
  assert.deepEqual(gridCsv(cells({ ...plain, x: { kind: 'steps', values: [4] } })).split('\n'), [
    header,
    '0,0,x0,y0,euler,4,5,3,4,0.5000,,,,,,,,,,,',
    '',
  ]);
});

test("CSV: eta, sigma noise, the schedule's sigmas and rho, and the RNG source by A1111's names, empty where not set", () => {
  const grid = {
    base: { prompt: 'a red circle', seed: 3, steps: 4, cfgScale: 5, sampler: 'euler_ancestral', sNoise: 0.9, scheduleRho: 5 },
    x: { kind: 'eta', values: [0, 0.5] },
    y: { kind: 'noiseSource', values: ['default', 'torch-cuda'] },
  };
  assert.deepEqual(gridCsv(cells(grid)).split('\n'), [
    header,
    '0,0,x0,y0,euler_ancestral,4,5,3,4,0.5000,,,,,,0,0.9,,,5,',
    '1,0,x1,y0,euler_ancestral,4,5,3,4,0.5000,,,,,,0.5,0.9,,,5,',
    '0,1,x0,y1,euler_ancestral,4,5,3,4,0.5000,,,,,,0,0.9,,,5,NV',
    '1,1,x1,y1,euler_ancestral,4,5,3,4,0.5000,,,,,,0.5,0.9,,,5,NV',
    '',
  ]);
  const sigmas = {
    base: { prompt: 'a', seed: 3, steps: 4, cfgScale: 5, scheduleSigmaMin: 0.2 },
    x: { kind: 'scheduleSigmaMax', values: [8] },
  };
  assert.deepEqual(
    gridCsv(cells({ ...sigmas, y: { kind: 'noiseSource', values: ['torch-cpu'] } })).split('\n')[1],
    '0,0,x0,y0,euler,4,5,3,4,0.5000,,,,,,,,0.2,8,,CPU',
  );
});

test("the renderer's per-cell settings agree with the engine's cells", () => {
  const grids = [
    {
      base: {
        prompt: 'a',
        seed: 3,
        variationSeed: 100,
        variationStrength: 0.5,
        clipSkip: 2,
        seedResizeFromWidth: 320,
        seedResizeFromHeight: 320,
      },
      x: { kind: 'variationSeed', values: [11, 12] },
      y: { kind: 'clipSkip', values: [1, 3] },
    },
    {
      base: { prompt: 'a', seed: 3, variationSeed: 7 },
      x: { kind: 'variationStrength', values: [0, 0.5, 1] },
      y: { kind: 'steps', values: [2, 3] },
    },
    { base: { prompt: 'a', seed: 3, clipSkip: 2 }, x: { kind: 'cfgScale', values: [4, 6] } },
    {
      base: { prompt: 'a', seed: 3, sampler: 'euler_ancestral', scheduleSigmaMin: 0.1, eta: 0.3 },
      x: { kind: 'scheduleSigmaMax', values: [5, 10] },
      y: { kind: 'noiseSource', values: ['torch-cpu', 'default'] },
    },
    {
      base: { prompt: 'a', seed: 3, sampler: 'dpmpp_sde', scheduleSigmaMax: 9, noiseSource: 'torch-cuda' as const },
      x: { kind: 'sNoise', values: [0.8, 1] },
      y: { kind: 'scheduleRho', values: [3, 7] },
    },
    {
      base: { prompt: 'a', seed: 3, sampler: 'euler_ancestral' },
      x: { kind: 'eta', values: [0, 1] },
      y: { kind: 'scheduleSigmaMin', values: [0.5] },
    },
  ];
  assert.deepEqual(gridCellSettings(grids[0], 1, 1), {
    clipSkip: 3,
    variationSeed: 12,
    variationStrength: 0.5,
    seedResizeFromWidth: 320,
    seedResizeFromHeight: 320,
  });
  assert.deepEqual(gridCellSettings(grids[1], 0, 1), {});
  assert.deepEqual(gridCellSettings(grids[1], 2, 0), { variationSeed: 7, variationStrength: 1 });
  for (const grid of grids) {
    const engine = gridCsv(cells(grid)).split('\n').slice(1, -1);
    const renderer = gridRequests(GridRequestSchema.parse(grid)).map(({ x, y }) => {
      return cellSettingsFields(gridCellSettings(grid, x, y)).join(',');
    });
    assert.deepEqual(
      engine.map((row) => row.split(',').slice(10).join(',')),
      renderer,
    );
  }
});
