// A1111's Eta, Sigma noise, Schedule min sigma, Schedule max sigma, Schedule rho and RNG source grid axes on the
// embedded model: each of a 2-cell grid's images equals a plain generate() of that cell's request byte for byte (so the
// axis really reaches the engine), the two cells differ, and the CSV carries each cell's value. A max sigma axis at or
// below the model's min sigma is refused before any work, naming the cell.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GridRequestSchema } from '../src-core/contract/experiments.ts';
import { RequestError, type GenerateRequestInput } from '../src-core/contract/generate.ts';
import { checkGridOnModel, gridCsv, runGrid } from '../src-core/experiments/grid.ts';
import { DEFAULT_MODEL_DIR } from '../src-core/model/default-model.ts';
import { loadModel } from '../src-core/model/model.ts';
import { generate } from '../src-core/pipeline/txt2img.ts';

const BASE: GenerateRequestInput = {
  prompt: 'a red circle on a blue background',
  negativePrompt: '',
  sampler: 'euler_ancestral',
  schedule: 'karras',
  steps: 4,
  cfgScale: 6,
  seed: 5,
};

const AXES = [
  { axis: { kind: 'eta', values: [0.5, 1] }, field: 'eta', column: 'eta', csv: ['0.5', '1'] },
  { axis: { kind: 'sNoise', values: [0.8, 1] }, field: 'sNoise', column: 'sigma_noise', csv: ['0.8', '1'] },
  { axis: { kind: 'scheduleSigmaMin', values: [0.1, 0.6] }, field: 'scheduleSigmaMin', column: 'schedule_min_sigma', csv: ['0.1', '0.6'] },
  { axis: { kind: 'scheduleSigmaMax', values: [4, 14] }, field: 'scheduleSigmaMax', column: 'schedule_max_sigma', csv: ['4', '14'] },
  { axis: { kind: 'scheduleRho', values: [2, 7] }, field: 'scheduleRho', column: 'schedule_rho', csv: ['2', '7'] },
  { axis: { kind: 'noiseSource', values: ['default', 'torch-cpu'] }, field: 'noiseSource', column: 'rng', csv: ['', 'CPU'] },
] as const;

test("each new axis's cells are plain generate() runs of the cell's request, and differ", async () => {
  const model = await loadModel(DEFAULT_MODEL_DIR);
  try {
    for (const { axis, field, column, csv } of AXES) {
      const grid = GridRequestSchema.parse({ base: BASE, x: axis });
      const cells = await runGrid(model, grid);
      assert.equal(cells.length, 2, axis.kind);
      for (const [x, value] of axis.values.entries()) {
        const plain = (await generate(model, { ...BASE, [field]: value })).images[0]!;
        assert.ok(cells[x]!.png.equals(plain.png), `${axis.kind} ${value}: the cell's PNG differs from generate()'s`);
        assert.equal(cells[x]!.parameters, plain.parameters, `${axis.kind} ${value}`);
      }
      assert.ok(!cells[0]!.png.equals(cells[1]!.png), `${axis.kind}: both cells are the same image`);
      const [header, ...rows] = gridCsv(cells).trim().split('\n');
      const at = header!.split(',').indexOf(column);
      assert.ok(at > 0, `no ${column} column`);
      assert.deepEqual(
        rows.map((row) => row.split(',')[at]),
        csv,
        axis.kind,
      );
    }
  } finally {
    await model.dispose();
  }
});

test("a schedule max sigma axis at or below the model's min sigma is refused before any work, naming the cell", async () => {
  const model = await loadModel(DEFAULT_MODEL_DIR);
  try {
    const grid = GridRequestSchema.parse({ base: BASE, x: { kind: 'scheduleSigmaMax', values: [5, 0.001] } });
    assert.throws(
      () => checkGridOnModel(model, grid),
      (error: Error) =>
        error instanceof RequestError &&
        error.message ===
          'the cell "Schedule max sigma: 0.001" cannot run: its max sigma 0.001 is not above the model\'s min sigma 0.02917: ' +
            "the schedule's max sigma must be above its min sigma",
    );
    assert.doesNotThrow(() =>
      checkGridOnModel(model, GridRequestSchema.parse({ base: BASE, x: { kind: 'scheduleSigmaMax', values: [5, 1] } })),
    );
  } finally {
    await model.dispose();
  }
});
