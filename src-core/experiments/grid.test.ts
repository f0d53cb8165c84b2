// Grid cells from a grid request: the Prompt S/R axis replaces its first value in both prompts; A1111's Clip skip,
// Var. seed and Var. strength axes set their request fields; a clip skip axis on a model that ignores it is refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GridRequestSchema } from '../contract/experiments.ts';
import { RequestError } from '../contract/generate.ts';
import type { StableDiffusionModel } from '../model/model.ts';
import { checkGridOnModel, gridRequests } from './grid.ts';

test('each cell replaces every occurrence of the first value in the prompt and the negative prompt', () => {
  const grid = GridRequestSchema.parse({
    base: { prompt: 'red circle, red ring', negativePrompt: 'red blur', seed: 3 },
    x: { kind: 'promptSR', values: ['red', '(red:1.4)'] },
    y: { kind: 'cfgScale', values: [5, 7] },
  });
  const cells = gridRequests(grid);
  assert.deepEqual(
    cells.map((c) => [c.x, c.y, c.request.prompt, c.request.negativePrompt, c.request.cfgScale]),
    [
      [0, 0, 'red circle, red ring', 'red blur', 5],
      [1, 0, '(red:1.4) circle, (red:1.4) ring', '(red:1.4) blur', 5],
      [0, 1, 'red circle, red ring', 'red blur', 7],
      [1, 1, '(red:1.4) circle, (red:1.4) ring', '(red:1.4) blur', 7],
    ],
  );
});

test("clip skip, variation seed and variation strength axes set the request's field of that name in each cell", () => {
  const grid = GridRequestSchema.parse({
    base: { prompt: 'a red circle', seed: 3, variationSeed: 100, variationStrength: 0.5, clipSkip: 2 },
    x: { kind: 'variationSeed', values: [11, 12] },
    y: { kind: 'clipSkip', values: [1, 3] },
  });
  assert.deepEqual(
    gridRequests(grid).map((c) => [c.x, c.y, c.request.variationSeed, c.request.variationStrength, c.request.clipSkip, c.request.seed]),
    [
      [0, 0, 11, 0.5, 1, 3],
      [1, 0, 12, 0.5, 1, 3],
      [0, 1, 11, 0.5, 3, 3],
      [1, 1, 12, 0.5, 3, 3],
    ],
  );
  const strengths = GridRequestSchema.parse({
    base: { prompt: 'a red circle', seed: 3, variationSeed: 100 },
    x: { kind: 'variationStrength', values: [0, 0.25, 1] },
  });
  assert.deepEqual(
    gridRequests(strengths).map((c) => [c.request.variationSeed, c.request.variationStrength, c.request.count, c.request.batchSize]),
    [
      [100, 0, 1, 1],
      [100, 0.25, 1, 1],
      [100, 1, 1, 1],
    ],
  );
});

test('a clip skip axis is refused on SD 2 and SDXL models (which ignore Clip skip), accepted on SD 1', () => {
  const dir = (family: string) => {
    const folder = mkdtempSync(join(tmpdir(), 'grid-clip-skip-'));
    writeFileSync(join(folder, 'import_info.json'), JSON.stringify({ family }));
    return folder;
  };
  const model = (name: string, info: object) => ({ info: { name, ...info } }) as unknown as StableDiffusionModel;
  const grid = GridRequestSchema.parse({ base: { prompt: 'x', seed: 1 }, x: { kind: 'clipSkip', values: [1, 2] } });
  const folders = [dir('sd1'), dir('sd2')];
  try {
    assert.doesNotThrow(() => checkGridOnModel(model('tiny sd1', { dir: folders[0] }), grid));
    assert.throws(
      () => checkGridOnModel(model('tiny sd2', { dir: folders[1] }), grid),
      (error: Error) =>
        error instanceof RequestError &&
        error.message ===
          'a Clip skip axis would make the same image in every cell: tiny sd2 is an SD 2.x model (OpenCLIP text encoder), ' +
            'which ignores Clip skip (as in A1111); Clip skip applies to SD 1.x models',
    );
    assert.throws(() => checkGridOnModel(model('tiny xl', { dir: folders[0], sdxl: {} }), grid), /tiny xl is an SDXL model/);
    // Other axes do not ask.
    const steps = GridRequestSchema.parse({ base: { prompt: 'x', seed: 1, clipSkip: 2 }, x: { kind: 'steps', values: [1, 2] } });
    assert.doesNotThrow(() => checkGridOnModel(model('tiny sd2', { dir: folders[1] }), steps));
  } finally {
    for (const folder of folders) rmSync(folder, { recursive: true, force: true });
  }
});
