// The importer's tiny checkpoints (tests/fixtures/import), imported into a temporary folder for one test's use.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { importModel } from '../../src-core/import/importer.ts';
import { loadModel, type StableDiffusionModel } from '../../src-core/model/model.ts';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'import');

/** `source` and `config` (a diffusers folder giving the architecture) relative to tests/fixtures/import. */
export async function withImportedModel<T>(
  source: string,
  config: string | undefined,
  use: (model: StableDiffusionModel) => Promise<T>,
  precision: 'fp32' | 'fp16' = 'fp32',
): Promise<T> {
  const work = mkdtempSync(join(tmpdir(), 'imported-model-'));
  try {
    const out = join(work, 'model');
    await importModel(join(FIXTURES, source), { out, config: config && join(FIXTURES, config), precision });
    const model = await loadModel(out);
    try {
      return await use(model);
    } finally {
      await model.dispose();
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** The tiny SD 1 checkpoint in float32. */
export const withImportedSd1 = <T>(use: (model: StableDiffusionModel) => Promise<T>): Promise<T> =>
  withImportedModel('sd1/sd1-ldm-fp32.safetensors', 'sd1/diffusers', use);
